//! Reads of protected case classes during one request, flushed to the access log at its end
//! as one entry per case (so a page of 100 cases costs a bounded number of statements).

use std::{collections::BTreeMap, sync::Mutex};

use raccordo_policies::{ClassSet, DataClass, RelationshipSet};

/// The classes read per case in one request.
#[derive(Debug, Default)]
pub struct ReadLog(Mutex<BTreeMap<String, (RelationshipSet, ClassSet)>>);

impl ReadLog {
    /// Notes that `class` of `case_id` was read through `rels`. `BASE` reads are not logged.
    pub fn record(&self, case_id: &str, rels: RelationshipSet, class: DataClass) {
        if class == DataClass::Base {
            return;
        }
        // A poisoned lock only means another resolver panicked; the data is still sound.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Most reads are of a case already seen in this request: no allocation then.
        if let Some(entry) = map.get_mut(case_id) {
            entry.0 = entry.0.union(rels);
            entry.1.insert(class);
            return;
        }
        map.insert(case_id.to_string(), (rels, ClassSet::empty().with(class)));
    }

    /// Takes every recorded read, leaving the log empty.
    pub fn drain(&self) -> Vec<(String, RelationshipSet, ClassSet)> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *map)
            .into_iter()
            .map(|(k, (r, c))| (k, r, c))
            .collect()
    }
}
