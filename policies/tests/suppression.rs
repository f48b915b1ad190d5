//! Small-count suppression (ACCESS.md section 7), on answers made by hand and on random ones.

use proptest::prelude::*;
use raccordo_policies::{suppress, StatCell};
use std::collections::BTreeMap;

fn cell(keys: &[&str], count: u64) -> StatCell {
    StatCell {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        count,
        suppressed: false,
    }
}

/// The keys of the suppressed cells, joined by '/', sorted.
fn hidden(cells: &[StatCell]) -> Vec<String> {
    let mut out: Vec<String> = cells
        .iter()
        .filter(|c| c.suppressed)
        .map(|c| c.keys.join("/"))
        .collect();
    out.sort();
    out
}

#[test]
fn one_dimension_primary_then_smallest_other() {
    let mut cells = vec![cell(&["BG"], 5), cell(&["BS"], 1), cell(&["MI"], 10)];
    suppress(&mut cells, 1, 3);
    assert_eq!(hidden(&cells), ["BG", "BS"]);
}

#[test]
fn one_dimension_two_primaries_need_nothing_more() {
    let mut cells = vec![cell(&["BG"], 1), cell(&["BS"], 2), cell(&["MI"], 10)];
    suppress(&mut cells, 1, 3);
    assert_eq!(hidden(&cells), ["BG", "BS"]);
}

#[test]
fn one_dimension_nothing_small_nothing_hidden() {
    let mut cells = vec![cell(&["BG"], 3), cell(&["BS"], 4), cell(&["MI"], 10)];
    suppress(&mut cells, 1, 3);
    assert!(hidden(&cells).is_empty());
}

#[test]
fn one_dimension_tie_goes_to_the_first_keys() {
    // Input order must not matter: the tie between LO and CR (both 5) goes to CR.
    let mut cells = vec![
        cell(&["LO"], 5),
        cell(&["PV"], 2),
        cell(&["CR"], 5),
        cell(&["MN"], 9),
    ];
    suppress(&mut cells, 1, 3);
    assert_eq!(hidden(&cells), ["CR", "PV"]);
}

#[test]
fn a_single_cell_group_needs_nothing_more() {
    let mut cells = vec![cell(&["BG"], 1)];
    suppress(&mut cells, 1, 3);
    assert_eq!(hidden(&cells), ["BG"]);
    let mut cells = vec![cell(&["BG"], 7)];
    suppress(&mut cells, 1, 3);
    assert!(hidden(&cells).is_empty());
}

#[test]
fn k_is_respected() {
    let mut cells = vec![
        cell(&["a"], 4),
        cell(&["b"], 5),
        cell(&["c"], 6),
        cell(&["d"], 20),
    ];
    suppress(&mut cells, 1, 5);
    // 4 is primary (below 5), then the smallest other (5) is hidden.
    assert_eq!(hidden(&cells), ["a", "b"]);
}

#[test]
fn two_dimensions_rows_and_columns() {
    //        y1   y2   y3
    //  x1     1   10   20
    //  x2    30   40   50
    let mut cells = vec![
        cell(&["x1", "y1"], 1),
        cell(&["x1", "y2"], 10),
        cell(&["x1", "y3"], 20),
        cell(&["x2", "y1"], 30),
        cell(&["x2", "y2"], 40),
        cell(&["x2", "y3"], 50),
    ];
    suppress(&mut cells, 2, 3);
    // Row x1 hides 10; column y1 hides 30; column y2 then has one hidden (10), so 40 goes too;
    // row x2 now has two hidden cells and is safe.
    assert_eq!(hidden(&cells), ["x1/y1", "x1/y2", "x2/y1", "x2/y2"]);
}

#[test]
fn two_dimensions_cascade_along_a_chain() {
    // Sparse answer: only the combinations that occur.
    //        y1   y2   y3   y4
    //  x1     1    9
    //  x2          5    8
    //  x3               6    7
    let mut cells = vec![
        cell(&["x1", "y1"], 1),
        cell(&["x1", "y2"], 9),
        cell(&["x2", "y2"], 5),
        cell(&["x2", "y3"], 8),
        cell(&["x3", "y3"], 6),
        cell(&["x3", "y4"], 7),
    ];
    suppress(&mut cells, 2, 3);
    // x1/y1 is primary; column y1 has a single cell. Row x1 hides 9; column y2 then hides 5;
    // row x2 hides 8; column y3 hides 6; row x3 hides 7; column y4 is a single cell.
    assert_eq!(
        hidden(&cells),
        ["x1/y1", "x1/y2", "x2/y2", "x2/y3", "x3/y3", "x3/y4"]
    );
}

#[test]
fn two_dimensions_tie_within_a_row() {
    let mut cells = vec![
        cell(&["a", "r"], 7),
        cell(&["a", "p"], 1),
        cell(&["a", "q"], 7),
    ];
    suppress(&mut cells, 2, 3);
    // Columns are single cells; row a has one hidden cell and a tie between q and r: q goes.
    assert_eq!(hidden(&cells), ["a/p", "a/q"]);
}

#[test]
fn suppression_never_changes_the_cells() {
    let mut cells = vec![
        cell(&["x1", "y1"], 1),
        cell(&["x2", "y1"], 4),
        cell(&["x1", "y2"], 2),
        cell(&["x2", "y2"], 100),
    ];
    let before: Vec<(Vec<String>, u64)> = cells.iter().map(|c| (c.keys.clone(), c.count)).collect();
    suppress(&mut cells, 2, 3);
    let after: Vec<(Vec<String>, u64)> = cells.iter().map(|c| (c.keys.clone(), c.count)).collect();
    assert_eq!(before, after);
}

/// Groups as ACCESS.md defines them, computed independently: for 1 dim, everything; for 2 dims,
/// cells sharing keys[0], and cells sharing keys[1].
fn groups(cells: &[StatCell], dims: usize) -> Vec<Vec<usize>> {
    if dims == 1 {
        return vec![(0..cells.len()).collect()];
    }
    let mut out = Vec::new();
    for d in 0..2 {
        let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in cells.iter().enumerate() {
            by.entry(c.keys[d].as_str()).or_default().push(i);
        }
        out.extend(by.into_values());
    }
    out
}

/// Random answers: unique keys drawn from small alphabets (so groups have several cells),
/// counts from 1 to 12 (often below k = 3).
fn answer() -> impl Strategy<Value = (usize, Vec<StatCell>, u64)> {
    (1usize..=2, 2u64..=5).prop_flat_map(|(dims, k)| {
        let key = prop::collection::vec(0u8..5, dims);
        prop::collection::btree_map(key, 1u64..=12, 0..20).prop_map(move |m| {
            let cells = m
                .into_iter()
                .map(|(keys, count)| StatCell {
                    keys: keys.iter().map(|k| format!("k{k}")).collect(),
                    count,
                    suppressed: false,
                })
                .collect();
            (dims, cells, k)
        })
    })
}

proptest! {
    #[test]
    fn no_group_ends_with_exactly_one_suppressed_cell((dims, cells, k) in answer()) {
        let mut out = cells.clone();
        suppress(&mut out, dims, k);
        for g in groups(&out, dims) {
            if g.len() > 1 {
                let n = g.iter().filter(|&&i| out[i].suppressed).count();
                prop_assert_ne!(n, 1, "group {:?} of {:?}", g, out);
            }
        }
    }

    #[test]
    fn suppression_keeps_every_cell_and_hides_every_small_count((dims, cells, k) in answer()) {
        let mut out = cells.clone();
        suppress(&mut out, dims, k);
        prop_assert_eq!(out.len(), cells.len());
        for (a, b) in cells.iter().zip(&out) {
            prop_assert_eq!(&a.keys, &b.keys);
            prop_assert_eq!(a.count, b.count);
            if b.count < k {
                prop_assert!(b.suppressed);
            }
        }
        // Stable: running it again changes nothing.
        let mut again = out.clone();
        suppress(&mut again, dims, k);
        prop_assert_eq!(again, out);
    }

    #[test]
    fn input_order_does_not_matter((dims, cells, k) in answer(), seed in any::<u64>()) {
        let mut a = cells.clone();
        suppress(&mut a, dims, k);
        let mut b = cells.clone();
        // A deterministic shuffle.
        let n = b.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            b.swap(i, j);
        }
        suppress(&mut b, dims, k);
        let key = |c: &StatCell| (c.keys.clone(), c.suppressed);
        let mut ka: Vec<_> = a.iter().map(key).collect();
        let mut kb: Vec<_> = b.iter().map(key).collect();
        ka.sort();
        kb.sort();
        prop_assert_eq!(ka, kb);
    }
}
