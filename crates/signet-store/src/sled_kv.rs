//! The facade between signet-core's KV traits and sled. Every table lives in one sled
//! tree, keyed by the table's prefix byte. A batch of entries (records, secondary indexes
//! and the last-applied id) is staged in memory and written as one set (see
//! `StateMachineStore::write_set`, which makes the set atomic for readers and for recovery).

use signet_core::{ChangedKey, KvError, KvRead, KvTxn, Row, Table};
use std::collections::BTreeMap;

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

/// Rows to write, by full key: `Some` sets the value, `None` removes the row.
pub(crate) type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A transaction in progress over the tree: writes are staged in `writes` (reads see them
/// first), every written key is recorded for the change feed, and nothing reaches the tree
/// until the caller writes the set.
pub(crate) struct StagedTxn<'a> {
    tree: &'a sled::Tree,
    pub(crate) writes: WriteSet,
    pub(crate) changed: Vec<ChangedKey>,
}

impl<'a> StagedTxn<'a> {
    pub(crate) fn new(tree: &'a sled::Tree) -> StagedTxn<'a> {
        StagedTxn {
            tree,
            writes: WriteSet::new(),
            changed: vec![],
        }
    }
}

impl KvTxn for StagedTxn<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        let full = full_key(table, key);
        if let Some(staged) = self.writes.get(&full) {
            return Ok(staged.clone());
        }
        Ok(self.tree.get(full).map_err(storage)?.map(|v| v.to_vec()))
    }

    fn put(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), KvError> {
        self.writes.insert(full_key(table, key), Some(value));
        self.note(table, key);
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), KvError> {
        self.writes.insert(full_key(table, key), None);
        self.note(table, key);
        Ok(())
    }
}

impl StagedTxn<'_> {
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

/// A write set as one value, for the redo record (`StateMachineStore::write_set`): a
/// version byte, then per row the key's length (u32, big-endian) and bytes, and either 0
/// (remove) or 1 and the value's length and bytes.
pub(crate) fn encode_write_set(writes: &WriteSet) -> Vec<u8> {
    let size: usize = writes
        .iter()
        .map(|(k, v)| 9 + k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = Vec::with_capacity(1 + size);
    out.push(WRITE_SET_VERSION);
    for (k, v) in writes {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k);
        match v {
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                out.extend_from_slice(v);
            }
            None => out.push(0),
        }
    }
    out
}

const WRITE_SET_VERSION: u8 = 1;

/// The inverse of [`encode_write_set`]; an error names what is malformed.
pub(crate) fn decode_write_set(mut b: &[u8]) -> Result<WriteSet, String> {
    fn take<'b>(b: &mut &'b [u8], n: usize) -> Result<&'b [u8], String> {
        if b.len() < n {
            return Err(format!(
                "write set cut short: {n} bytes wanted, {} left",
                b.len()
            ));
        }
        let (head, rest) = b.split_at(n);
        *b = rest;
        Ok(head)
    }
    fn len(b: &mut &[u8]) -> Result<usize, String> {
        let n = take(b, 4)?;
        Ok(u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
    }
    match take(&mut b, 1)? {
        [WRITE_SET_VERSION] => {}
        [v] => return Err(format!("write set of unknown version {v}")),
        _ => unreachable!("took one byte"),
    }
    let mut out = WriteSet::new();
    while !b.is_empty() {
        let n = len(&mut b)?;
        let key = take(&mut b, n)?.to_vec();
        let value = match take(&mut b, 1)? {
            [0] => None,
            [1] => {
                let n = len(&mut b)?;
                Some(take(&mut b, n)?.to_vec())
            }
            [t] => return Err(format!("write set row of unknown kind {t}")),
            _ => unreachable!("took one byte"),
        };
        out.insert(key, value);
    }
    Ok(out)
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
