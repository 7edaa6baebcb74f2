//! Pages bounded by size as well as by count. The store's replies have a size cap (4 MiB
//! on the gateway's client); a page of large records (pools with big schemas, users with
//! many attributes) could pass it at any count, and the listing would then fail for every
//! caller, for ever. A page therefore stops at a row boundary once its records pass
//! [`MAX_PAGE_BYTES`], and says so, so the caller continues after its last row.

use super::{decode_all, QueryResult};
use crate::{KvError, Row, Table};

/// Most record bytes one page carries before it stops early. With the largest record a
/// pool's limits allow added on top, a page stays well under the store's reply cap.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// The leading items whose sizes stay within [`MAX_PAGE_BYTES`] (always at least one, so a
/// listing always advances), and whether any were left out.
pub(crate) fn within_budget<T>(mut items: Vec<T>, size: impl Fn(&T) -> usize) -> (Vec<T>, bool) {
    let mut total = 0;
    let keep = items
        .iter()
        .position(|item| {
            total += size(item);
            total > MAX_PAGE_BYTES
        })
        .map(|i| i.max(1))
        .unwrap_or(items.len());
    let cut = keep < items.len();
    items.truncate(keep);
    (items, cut)
}

/// Decode raw rows into one page, cut to the size budget. The budget counts each record's
/// decoded size: a compressed record is small on disk and large in a reply.
pub(crate) fn decode_page<T: serde::de::DeserializeOwned>(
    table: Table,
    rows: Vec<Row>,
) -> Result<(Vec<T>, bool), KvError> {
    let (rows, cut) = within_budget(rows, |(k, v)| k.len() + crate::codec::record_json_len(v));
    Ok((decode_all(table, rows)?, cut))
}

/// The answer for one page: `wrap`ped, and marked [`QueryResult::Partial`] when the size
/// budget cut it short (a short page otherwise means the listing's end).
pub(crate) fn paged<T>(
    wrap: impl FnOnce(Vec<T>) -> QueryResult,
    (items, cut): (Vec<T>, bool),
) -> QueryResult {
    let result = wrap(items);
    if cut {
        QueryResult::Partial(Box::new(result))
    } else {
        result
    }
}

/// The encoded size of a record, for pages built from decoded records.
pub(crate) fn encoded_len<T: serde::Serialize>(item: &T) -> usize {
    serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stop_at_the_budget_but_always_advance() {
        let (kept, cut) = within_budget(vec![10usize; 5], |n| *n);
        assert_eq!((kept.len(), cut), (5, false));
        let big = MAX_PAGE_BYTES / 3 + 1;
        let (kept, cut) = within_budget(vec![big; 5], |n| *n);
        assert_eq!((kept.len(), cut), (2, true));
        let (kept, cut) = within_budget(vec![MAX_PAGE_BYTES * 2; 3], |n| *n);
        assert_eq!(
            (kept.len(), cut),
            (1, true),
            "one oversized row still makes a page"
        );
        let (kept, cut) = within_budget(Vec::<usize>::new(), |n| *n);
        assert_eq!((kept.len(), cut), (0, false));
    }
}
