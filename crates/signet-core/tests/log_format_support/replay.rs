//! Replay of the samples on an empty [`MemKv`], printed as text: each outcome with the
//! rows it changed, then every row of the state left behind.

use signet_core::{
    apply, CasRegister, Command, GetOrCreateIdentity, MemKv, Request, RequestId, Table,
};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The samples plus what makes more of them apply: the GetOrCreateIdentity sample links
/// into an identity that must exist, so a plain GetOrCreateIdentity creating that
/// identity goes first; the CasRegister sample expects a value, so an unconditional
/// write of it goes first.
pub fn with_extras(samples: Vec<Command>) -> Vec<Command> {
    let mut out = Vec::with_capacity(samples.len() + 1);
    for c in samples {
        if let Command::GetOrCreateIdentity(GetOrCreateIdentity {
            into_identity_id: Some(into),
            ..
        }) = &c
        {
            let mut plain = c.clone();
            if let Command::GetOrCreateIdentity(GetOrCreateIdentity {
                new_identity_id,
                into_identity_id,
                ..
            }) = &mut plain
            {
                *new_identity_id = into.clone();
                *into_identity_id = None;
            }
            out.push(plain);
        }
        if let Command::CasRegister(CasRegister {
            name,
            expect: Some(e),
            ..
        }) = &c
        {
            out.push(Command::CasRegister(CasRegister {
                name: name.clone(),
                expect: None,
                value: *e,
            }));
        }
        out.push(c);
    }
    out
}

fn request(i: usize, c: &Command) -> Request {
    Request::new(RequestId([i as u8; 16]), c.clone())
}

/// Apply `cmds` in order, then once more (every retry must be answered from the dedup
/// table with the first outcome, changing nothing), and print each outcome with the rows
/// it wrote or deleted (dedup bookkeeping left out), then the whole final state.
pub fn run(cmds: &[Command]) -> String {
    let mut kv = MemKv::new();
    let mut out = String::new();
    let mut outcomes = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        let before = kv.clone();
        let o = apply(&mut kv, &request(i, c)).expect("apply failed");
        let json = serde_json::to_string(&o).unwrap();
        writeln!(out, "{} -> {json}", c.name()).unwrap();
        diff(&before, &kv, &mut out);
        outcomes.push(o);
    }
    let state = kv.clone();
    for (i, c) in cmds.iter().enumerate() {
        let again = apply(&mut kv, &request(i, c)).expect("apply failed");
        assert_eq!(
            again,
            outcomes[i],
            "retry of {} answered differently",
            c.name()
        );
    }
    assert_eq!(kv, state, "a retried request changed the state");

    out.push_str("\nfinal state:\n");
    for ((table, key), value) in kv.rows() {
        writeln!(out, "{table:?} {} = {}", key.escape_ascii(), show(value)).unwrap();
    }
    out
}

type RowKey = (Table, Vec<u8>);

fn bookkeeping((table, key): &RowKey) -> bool {
    matches!(table, Table::Dedup | Table::DedupSeq)
        || (*table == Table::Meta && key.as_slice() == b"dedup_seq")
}

/// `+` rows written (new or changed), `-` rows deleted.
fn diff(before: &MemKv, after: &MemKv, out: &mut String) {
    let old: BTreeMap<&RowKey, &Vec<u8>> = before.rows().collect();
    let new: BTreeMap<&RowKey, &Vec<u8>> = after.rows().collect();
    for (k, v) in new.iter().filter(|(k, _)| !bookkeeping(k)) {
        if old.get(k) != Some(v) {
            writeln!(out, "  + {:?} {} = {}", k.0, k.1.escape_ascii(), show(v)).unwrap();
        }
    }
    for k in old
        .keys()
        .filter(|k| !bookkeeping(k) && !new.contains_key(*k))
    {
        writeln!(out, "  - {:?} {}", k.0, k.1.escape_ascii()).unwrap();
    }
}

/// A record as `v{version} {its JSON}` (version 2 decompressed); anything else escaped.
fn show(value: &[u8]) -> String {
    if let Ok(json) = signet_core::record_json(value) {
        if serde_json::from_slice::<serde_json::Value>(&json).is_ok() {
            return format!("v{} {}", value[0], String::from_utf8_lossy(&json));
        }
    }
    value.escape_ascii().to_string()
}
