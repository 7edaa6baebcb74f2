//! An in-memory implementation of the KV traits, for tests and for checking that two
//! replays of a log produce the same state.

use crate::{KvError, KvRead, KvTxn, Row, Table};
use std::collections::BTreeMap;

/// Ordered in-memory tables. Writes apply immediately (no rollback): enough for unit tests
/// and replay checks, where a failing apply aborts the test anyway.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemKv {
    rows: BTreeMap<(Table, Vec<u8>), Vec<u8>>,
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every row, in (table, key) order.
    pub fn rows(&self) -> impl Iterator<Item = (&(Table, Vec<u8>), &Vec<u8>)> {
        self.rows.iter()
    }
}

impl KvTxn for MemKv {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.rows.get(&(table, key.to_vec())).cloned())
    }

    fn put(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), KvError> {
        self.rows.insert((table, key.to_vec()), value);
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), KvError> {
        self.rows.remove(&(table, key.to_vec()));
        Ok(())
    }
}

impl KvRead for MemKv {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        KvTxn::get(self, table, key)
    }

    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Row>, KvError> {
        Ok(self
            .rows
            .range((table, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .filter(|((_, k), _)| after.is_none_or(|a| k.as_slice() > a))
            .take(limit)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
