//! The node identity file in a data dir. It ties the directory to one node id and holds the
//! incarnation: a random number chosen when the directory was created. A node whose data
//! was wiped gets a new incarnation, so the cluster can refuse it under its old id.

use crate::StoreError;
use serde::{Deserialize, Serialize};
use std::path::Path;

const FILE: &str = "node.json";

/// Contents of `node.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIdentity {
    /// File format version.
    pub format: u32,
    /// Raft node id this directory belongs to.
    pub node_id: u64,
    /// Random id of this directory's life.
    pub incarnation: u64,
}

impl NodeIdentity {
    /// Load the identity of `dir`, creating it (with a fresh incarnation) if the directory
    /// is new. Returns the identity and whether it was just created. Refuses a directory
    /// that belongs to another node id.
    pub fn load_or_create(dir: &Path, node_id: u64) -> Result<(Self, bool), StoreError> {
        crate::durable::create_dirs(dir)
            .map_err(|e| StoreError::io(format!("create {}", dir.display()), e))?;
        if let Some(id) = Self::load(dir, node_id)? {
            return Ok((id, false));
        }
        let id = NodeIdentity {
            format: 1,
            node_id,
            incarnation: new_incarnation(),
        };
        id.save(dir)?;
        Ok((id, true))
    }

    /// The identity of `dir`, or `None` if it has none (not a store's data dir). Refuses a
    /// directory that belongs to another node id.
    pub fn load(dir: &Path, node_id: u64) -> Result<Option<Self>, StoreError> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let id: NodeIdentity = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::DataDir(format!("{}: {e}", path.display())))?;
                if id.node_id != node_id {
                    return Err(StoreError::DataDir(format!(
                        "{} belongs to node {}, not node {node_id}",
                        dir.display(),
                        id.node_id
                    )));
                }
                Ok(Some(id))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(format!("read {}", path.display()), e)),
        }
    }

    /// Give this data dir a new incarnation and save it. A forced recovery does this: the
    /// recovered node starts a new cluster, and members of the old one that still hold its
    /// old incarnation must be refused rather than pull it back into the old membership.
    pub(crate) fn renew(&mut self, dir: &Path) -> Result<(), StoreError> {
        self.incarnation = new_incarnation();
        self.save(dir)
    }

    /// Write `node.json` atomically and durably (temp file, fsync, rename, fsync the dir).
    fn save(&self, dir: &Path) -> Result<(), StoreError> {
        let body = serde_json::to_vec_pretty(self)
            .map_err(|e| StoreError::DataDir(format!("encode node.json: {e}")))?;
        crate::durable::replace_file(&dir.join(FILE), &body, None)
            .map_err(|e| StoreError::io("write node.json", e))
    }
}

/// A random incarnation; never 0, so a missing value cannot match it.
fn new_incarnation() -> u64 {
    u64::from_be_bytes(rand::random::<[u8; 8]>()) | 1
}
