//! Small-count suppression for statistics answers (ACCESS.md section 7).

use std::collections::BTreeMap;

use crate::StatCell;

/// Primary then secondary suppression, until stable. See [`crate::suppress`].
///
/// Groups: for each of the `dims` dimensions, the cells that agree on every *other* key form a
/// group. With one dimension that is the whole answer; with two it is "cells sharing the first
/// key" and "cells sharing the second key", exactly as ACCESS.md says.
pub(crate) fn run(cells: &mut [StatCell], dims: usize, k: u64) {
    // Primary. A count of 0 should never reach here (such cells are not returned); if one
    // does, hiding it is the safe side. Cells already marked stay marked: we never un-hide.
    for cell in cells.iter_mut() {
        if cell.count < k {
            cell.suppressed = true;
        }
    }
    if dims == 0 || cells.len() < 2 {
        return;
    }
    let groups = groups(cells, dims);
    // Secondary. Each pass fixes groups in a fixed order (dimension, then group key), so the
    // result does not depend on the order of the input. Every fix hides one more cell, so the
    // loop ends after at most `cells.len()` passes.
    loop {
        let mut changed = false;
        for group in &groups {
            if group.len() < 2 {
                continue; // a group of one cell reveals nothing by subtraction
            }
            let hidden = group.iter().filter(|&&i| cells[i].suppressed).count();
            if hidden != 1 {
                continue;
            }
            let pick = group
                .iter()
                .copied()
                .filter(|&i| !cells[i].suppressed)
                .min_by(|&a, &b| {
                    cells[a]
                        .count
                        .cmp(&cells[b].count)
                        .then_with(|| cells[a].keys.cmp(&cells[b].keys))
                });
            if let Some(i) = pick {
                cells[i].suppressed = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Indices of the cells of each group, groups ordered by dimension then by their shared keys.
fn groups(cells: &[StatCell], dims: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for d in 0..dims {
        let mut by_rest: BTreeMap<Vec<Option<&str>>, Vec<usize>> = BTreeMap::new();
        for (i, cell) in cells.iter().enumerate() {
            let rest: Vec<Option<&str>> = (0..dims)
                .filter(|&j| j != d)
                .map(|j| cell.keys.get(j).map(String::as_str))
                .collect();
            by_rest.entry(rest).or_default().push(i);
        }
        out.extend(by_rest.into_values());
    }
    out
}
