//! The facade between signet-core's KV traits and sled. Every table lives in one sled
//! tree, keyed by the table's prefix byte, so a whole batch of entries (records, secondary
//! indexes and the last-applied id) commits in one single-tree transaction.

use signet_core::{ChangedKey, KvError, KvRead, KvTxn, Row, Table};
use sled::transaction::TransactionalTree;

/// Full storage key: table prefix byte + key.
pub(crate) fn full_key(table: Table, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(table.prefix());
    k.extend_from_slice(key);
    k
}

fn storage(e: impl std::fmt::Display) -> KvError {
    KvError::Storage(e.to_string())
}

/// A transaction in progress; records every written key for the change feed.
pub(crate) struct SledTxn<'a> {
    pub(crate) tree: &'a TransactionalTree,
    pub(crate) changed: Vec<ChangedKey>,
}

impl KvTxn for SledTxn<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self
            .tree
            .get(full_key(table, key))
            .map_err(storage)?
            .map(|v| v.to_vec()))
    }

    fn put(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), KvError> {
        self.tree
            .insert(full_key(table, key), value)
            .map_err(storage)?;
        self.note(table, key);
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), KvError> {
        self.tree.remove(full_key(table, key)).map_err(storage)?;
        self.note(table, key);
        Ok(())
    }
}

impl SledTxn<'_> {
    fn note(&mut self, table: Table, key: &[u8]) {
        // Bookkeeping tables are of no interest to cache watchers.
        if !matches!(table, Table::Meta | Table::Dedup | Table::DedupSeq) {
            self.changed.push(ChangedKey {
                table,
                key: key.to_vec(),
            });
        }
    }
}

/// Committed-state reads straight from the tree.
pub(crate) struct SledRead<'a>(pub(crate) &'a sled::Tree);

impl KvRead for SledRead<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self
            .0
            .get(full_key(table, key))
            .map_err(storage)?
            .map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Row>, KvError> {
        let full_prefix = full_key(table, prefix);
        let iter = match after {
            Some(a) => {
                let start = full_key(table, a);
                self.0
                    .range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded))
            }
            None => self.0.range(full_prefix.clone()..),
        };
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(storage)?;
            if !k.starts_with(&full_prefix) || out.len() >= limit {
                break;
            }
            out.push((k[1..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}
