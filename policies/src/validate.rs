//! Loading: parse the document, check that it holds together, and index it.
//!
//! Every check here is a rule a signatory could break by editing the document. A broken rule
//! is a start-up error, never a silent default: the hub must not run on a protocol that means
//! something other than what its text says.

use std::ops::Range;

use crate::document::{
    ActionName, Document, List, NetworkViewer, NotesName, OrderedMap, ReferralChange,
    ReferralViewer, ScopeName, StatsAccess, Through,
};
use crate::hash::FastMap;
use crate::policy::{
    bit, KindStats, Mask, PurposeRule, UpdatableField, N_ACTIONS, N_KINDS, N_NETWORK_CLASSES,
    N_PURPOSES, N_REFERRAL_VIEWERS, N_RELATIONSHIPS,
};
use crate::{
    AgencyKind, ClassSet, DataClass, FieldClass, NetworkClass, NotesScope, Policy, PolicyError,
    PolicyErrorKind, ReferralClass, ReferralClassSet, Relationship, RelationshipSet, SharePurpose,
    StatsScope, UserRole,
};

/// Parses and validates `source`, then builds the indexed [`Policy`].
pub(crate) fn load(source: &str) -> Result<Policy, PolicyError> {
    let doc: Document = toml::from_str(source).map_err(|e| syntax_error(source, &e))?;
    Loader { source }.build(doc)
}

/// Turns a parser error into one that names the line (1-based) where the parser stopped.
fn syntax_error(source: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => PolicyError::Syntax {
            line: line_at(source, span.start),
            message,
        },
        None => PolicyError::Document {
            kind: PolicyErrorKind::Syntax,
            message,
        },
    }
}

/// 1-based line of a byte offset.
fn line_at(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A name for messages; implemented by every enum the document spells.
trait Named: Copy + Into<Mask> {
    fn name(self) -> &'static str;
}

macro_rules! named {
    ($($ty:ty),+) => {
        $(impl Named for $ty {
            fn name(self) -> &'static str {
                self.as_str()
            }
        })+
    };
}
named!(
    AgencyKind,
    UserRole,
    SharePurpose,
    Relationship,
    ActionName,
    ReferralViewer
);

impl Named for NetworkViewer {
    fn name(self) -> &'static str {
        match self {
            NetworkViewer::Anonymous => "ANONYMOUS",
            NetworkViewer::Partner => "PARTNER",
            NetworkViewer::Owner => "OWNER",
        }
    }
}

struct Loader<'a> {
    source: &'a str,
}

impl Loader<'_> {
    /// An `Invalid` error of `kind` that names the line of `span`.
    fn at(
        &self,
        span: Range<usize>,
        kind: PolicyErrorKind,
        message: impl std::fmt::Display,
    ) -> PolicyError {
        PolicyError::Invalid {
            line: line_at(self.source, span.start),
            kind,
            message: message.to_string(),
        }
    }

    /// The mask of a list; a value listed twice is an error (it usually hides a typo).
    fn mask<T: Named>(&self, list: &List<T>, what: &str) -> Result<Mask, PolicyError> {
        let mut mask: Mask = 0;
        for &x in list.get_ref() {
            if mask & bit(x) != 0 {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Duplicate,
                    format!("{what}: {} is listed twice", x.name()),
                ));
            }
            mask |= bit(x);
        }
        Ok(mask)
    }

    /// A list that must name every value of its enum exactly once.
    fn complete<T: Named>(
        &self,
        list: &List<T>,
        all: &[T],
        what: &str,
    ) -> Result<Mask, PolicyError> {
        let mask = self.mask(list, what)?;
        for &x in all {
            if mask & bit(x) == 0 {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Missing,
                    format!("{what} must list {}", x.name()),
                ));
            }
        }
        Ok(mask)
    }

    fn class_set(&self, list: &List<DataClass>, what: &str) -> Result<ClassSet, PolicyError> {
        let mut set = ClassSet::empty();
        for &c in list.get_ref() {
            if set.contains(c) {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Duplicate,
                    format!("{what}: {c} is listed twice"),
                ));
            }
            set.insert(c);
        }
        Ok(set)
    }

    fn referral_set(
        &self,
        list: &List<ReferralClass>,
        what: &str,
    ) -> Result<ReferralClassSet, PolicyError> {
        let mut set = ReferralClassSet::empty();
        for &c in list.get_ref() {
            if set.contains(c) {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Duplicate,
                    format!("{what}: {c} is listed twice"),
                ));
            }
            set.insert(c);
        }
        Ok(set)
    }

    fn build(&self, doc: Document) -> Result<Policy, PolicyError> {
        // --- version
        let version = doc.version.get_ref().trim().to_string();
        if version.is_empty() || version.chars().any(char::is_control) {
            return Err(self.at(
                doc.version.span(),
                PolicyErrorKind::Missing,
                "`version` must be a non-empty single-line string",
            ));
        }

        // --- actors
        self.complete(&doc.agencies.kinds, &AgencyKind::ALL, "[agencies] kinds")?;
        let law_enforcement =
            self.mask(&doc.agencies.law_enforcement, "[agencies] law_enforcement")?;
        self.complete(&doc.roles.all, &UserRole::ALL, "[roles] all")?;
        let row_roles = self.mask(&doc.roles.rows, "[roles] rows")?;
        let act_roles = self.mask(&doc.roles.act, "[roles] act")?;
        let admin_roles = self.mask(&doc.roles.administer, "[roles] administer")?;
        let describe_roles = self.mask(&doc.roles.describe, "[roles] describe")?;
        if describe_roles & admin_roles != 0 {
            return Err(self.at(
                doc.roles.describe.span(), PolicyErrorKind::Contradiction,
                "[roles] describe: the platform's administrators change every agency's entry already; list only roles of the agencies themselves",
            ));
        }
        if act_roles & !row_roles != 0 {
            return Err(self.at(
                doc.roles.act.span(), PolicyErrorKind::Contradiction,
                "[roles] act: a role that may change cases must also be in [roles] rows (it would change what it cannot see)",
            ));
        }
        if admin_roles & row_roles != 0 {
            return Err(self.at(
                doc.roles.administer.span(), PolicyErrorKind::Contradiction,
                "[roles] administer: the platform's administrators read no case or referral data, so no role may be in both `administer` and `rows`",
            ));
        }
        let case_holders = self.mask(&doc.cases.holders, "[cases] holders")?;
        if case_holders == 0 {
            return Err(self.at(
                doc.cases.holders.span(),
                PolicyErrorKind::Missing,
                "[cases] holders must name at least one kind",
            ));
        }

        // --- field classes
        let (classes, field_list) = self.fields(&doc.fields)?;
        let mut updatable: FastMap<String, UpdatableField> = FastMap::default();
        // Updates name a case field; `CasePatch` adds the input-only names (e.g. `shelterId`).
        for type_name in ["Case", "CasePatch"] {
            for (t, f, class) in &field_list {
                if let (true, FieldClass::Case(class)) = (t == type_name, *class) {
                    updatable.entry(f.clone()).or_insert(UpdatableField {
                        class,
                        explicit: RelationshipSet::empty(),
                    });
                }
            }
        }

        // --- reading cases
        let mut read = [ClassSet::empty(); N_RELATIONSHIPS];
        let mut notes = [NotesScope::None; N_RELATIONSHIPS];
        let mut seen_read = RelationshipSet::empty();
        for (rel, entry) in &doc.read.0 {
            seen_read.insert(*rel);
            let what = format!("[read.{rel}] classes");
            let mut set = self.class_set(&entry.classes, &what)?;
            if set.contains(DataClass::Notes) {
                return Err(self.at(
                    entry.classes.span(), PolicyErrorKind::Contradiction,
                    format!("{what}: NOTES is not listed here; the `notes` key says which notes are read"),
                ));
            }
            if !set.contains(DataClass::Base) {
                return Err(self.at(
                    entry.classes.span(), PolicyErrorKind::Missing,
                    format!("{what} must include BASE: a relationship that cannot see BASE cannot see the case at all"),
                ));
            }
            let scope = match entry.notes.get_ref() {
                NotesName::All => NotesScope::All,
                NotesName::OwnAndSharedWithJoint => NotesScope::OwnAndSharedWithJoint,
                NotesName::None => NotesScope::None,
            };
            if scope != NotesScope::None {
                set.insert(DataClass::Notes);
            }
            read[*rel as usize] = set;
            notes[*rel as usize] = scope;
        }
        missing_keys(seen_read.iter(), &Relationship::ALL, "read")?;

        // --- who may perform each action at all
        let mut action_roles = [act_roles; N_ACTIONS];
        for (action, roles) in &doc.action_roles.0 {
            let what = format!("[action_roles] {}", action.as_str());
            let mask = self.mask(roles, &what)?;
            if mask == 0 || mask & !act_roles != 0 {
                return Err(self.at(
                    roles.span(),
                    PolicyErrorKind::Missing,
                    format!("{what} must name one or more roles of [roles] act"),
                ));
            }
            action_roles[*action as usize] = mask;
        }

        // --- changing cases
        let mut change_actions: [Mask; N_RELATIONSHIPS] = [0; N_RELATIONSHIPS];
        let mut change_classes = [ClassSet::empty(); N_RELATIONSHIPS];
        let mut change_fields: [Vec<String>; N_RELATIONSHIPS] = Default::default();
        let mut seen_change = RelationshipSet::empty();
        for (rel, entry) in &doc.change.0 {
            seen_change.insert(*rel);
            let r = *rel as usize;
            if let Some(actions) = &entry.actions {
                change_actions[r] = self.mask(actions, &format!("[change.{rel}] actions"))?;
                if change_actions[r] & bit(ActionName::AddNote) != 0 && notes[r] == NotesScope::None
                {
                    return Err(self.at(
                        actions.span(), PolicyErrorKind::Contradiction,
                        format!("[change.{rel}] actions: ADD_NOTE needs [read.{rel}] notes other than NONE (it would write notes it cannot read)"),
                    ));
                }
            }
            if let Some(list) = &entry.classes {
                let what = format!("[change.{rel}] classes");
                let set = self.class_set(list, &what)?;
                if let Some(c) = set.iter().find(|c| !read[r].contains(*c)) {
                    return Err(self.at(
                        list.span(), PolicyErrorKind::Contradiction,
                        format!("{what}: {c} is not readable by {rel} (it would change what it cannot see)"),
                    ));
                }
                change_classes[r] = set;
            }
            if let Some(fields) = &entry.fields {
                for field in fields.get_ref() {
                    let name = field.get_ref();
                    let Some(f) = updatable.get_mut(name.as_str()) else {
                        return Err(self.at(
                            field.span(), PolicyErrorKind::UnknownName,
                            format!("[change.{rel}] fields: `{name}` is not a field of [fields.Case] or [fields.CasePatch] with a case class"),
                        ));
                    };
                    if f.explicit.contains(*rel) {
                        return Err(self.at(
                            field.span(),
                            PolicyErrorKind::Duplicate,
                            format!("[change.{rel}] fields: `{name}` is listed twice"),
                        ));
                    }
                    if !read[r].contains(f.class) {
                        return Err(self.at(
                            field.span(),
                            PolicyErrorKind::Contradiction,
                            format!(
                                "[change.{rel}] fields: `{name}` is {} and not readable by {rel}",
                                f.class
                            ),
                        ));
                    }
                    f.explicit.insert(*rel);
                    change_fields[r].push(name.clone());
                }
            }
        }
        missing_keys(seen_change.iter(), &Relationship::ALL, "change")?;

        // --- purposes
        let placeholder = PurposeRule {
            relationship: Relationship::Owner,
            recipients: 0,
            by_share: false,
        };
        let mut purposes = [placeholder; N_PURPOSES];
        let mut seen_purposes: Mask = 0;
        let mut produced = RelationshipSet::empty();
        for (purpose, entry) in &doc.purposes.0 {
            seen_purposes |= bit(*purpose);
            let rel = *entry.relationship.get_ref();
            if rel == Relationship::Owner {
                return Err(self.at(
                    entry.relationship.span(), PolicyErrorKind::Contradiction,
                    format!("[purposes.{purpose}] relationship: OWNER comes from holding the case, never from a share"),
                ));
            }
            if produced.contains(rel) {
                return Err(self.at(
                    entry.relationship.span(), PolicyErrorKind::Contradiction,
                    format!("[purposes.{purpose}] relationship: {rel} is already given by another purpose"),
                ));
            }
            produced.insert(rel);
            let what = format!("[purposes.{purpose}] recipients");
            let recipients = self.mask(&entry.recipients, &what)?;
            if recipients == 0 {
                return Err(self.at(
                    entry.recipients.span(),
                    PolicyErrorKind::Missing,
                    format!("{what} is empty: a purpose nobody may receive cannot be used"),
                ));
            }
            purposes[*purpose as usize] = PurposeRule {
                relationship: rel,
                recipients,
                by_share: *entry.through.get_ref() == Through::Share,
            };
        }
        missing_keys(
            SharePurpose::ALL
                .into_iter()
                .filter(|p| seen_purposes & bit(*p) != 0),
            &SharePurpose::ALL,
            "purposes",
        )?;

        // --- emergency shares
        let emergency_hours = *doc.emergency.max_hours.get_ref();
        if emergency_hours == 0 {
            return Err(self.at(
                doc.emergency.max_hours.span(),
                PolicyErrorKind::OutOfRange,
                "[emergency] max_hours must be at least 1",
            ));
        }
        let emergency_purposes = self.mask(&doc.emergency.purposes, "[emergency] purposes")?;
        for p in SharePurpose::ALL {
            if emergency_purposes & bit(p) != 0 && !purposes[p as usize].by_share {
                return Err(self.at(
                    doc.emergency.purposes.span(), PolicyErrorKind::Contradiction,
                    format!("[emergency] purposes: {p} is given through a transfer request, not a share, so it has no emergency share"),
                ));
            }
        }
        let emergency_roles = self.mask(&doc.emergency.roles, "[emergency] roles")?;
        if emergency_roles & !action_roles[ActionName::Share as usize] != 0 {
            return Err(self.at(
                doc.emergency.roles.span(),
                PolicyErrorKind::Contradiction,
                "[emergency] roles: every role here must be allowed to SHARE",
            ));
        }
        if emergency_purposes != 0 && emergency_roles == 0 {
            return Err(self.at(
                doc.emergency.roles.span(),
                PolicyErrorKind::Missing,
                "[emergency] roles is empty although [emergency] purposes names purposes",
            ));
        }

        // --- referrals
        let referral_requesters = self.mask(&doc.referrals.requesters, "[referrals] requesters")?;
        let referral_targets = self.mask(&doc.referrals.targets, "[referrals] targets")?;
        if referral_requesters == 0 || referral_targets == 0 {
            return Err(self.at(
                doc.referrals.requesters.span(),
                PolicyErrorKind::Contradiction,
                "[referrals] requesters and targets must each name at least one kind",
            ));
        }
        let mut referral_visibility = [ReferralClassSet::empty(); N_REFERRAL_VIEWERS];
        let mut seen_columns: Mask = 0;
        for (col, list) in &doc.referrals.visibility.0 {
            seen_columns |= bit(*col);
            let what = format!("[referrals.visibility] {}", col.as_str());
            let set = self.referral_set(list, &what)?;
            if !set.is_empty() && !set.contains(ReferralClass::ReferralCore) {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Missing,
                    format!("{what} must include REFERRAL_CORE when it includes anything"),
                ));
            }
            referral_visibility[*col as usize] = set;
        }
        for col in ReferralViewer::ALL {
            if seen_columns & bit(col) == 0 {
                return Err(PolicyError::missing(format!(
                    "[referrals.visibility] has no entry for {}",
                    col.as_str()
                )));
            }
        }
        let mut referral_work: Option<Mask> = None;
        let mut referral_withdraw: Option<Mask> = None;
        let mut referral_correct: Option<Mask> = None;
        for (change, list) in &doc.referrals.changes.0 {
            let (slot, name) = match change {
                ReferralChange::Work => (&mut referral_work, "WORK"),
                ReferralChange::Withdraw => (&mut referral_withdraw, "WITHDRAW"),
                ReferralChange::Correct => (&mut referral_correct, "CORRECT"),
            };
            let what = format!("[referrals.changes] {name}");
            let mask = self.mask(list, &what)?;
            if mask & bit(ReferralViewer::Other) != 0 {
                return Err(self.at(
                    list.span(),
                    PolicyErrorKind::Contradiction,
                    format!("{what}: OTHER has no part in a referral and cannot change it"),
                ));
            }
            *slot = Some(mask);
        }
        let (Some(referral_work), Some(referral_withdraw)) = (referral_work, referral_withdraw)
        else {
            return Err(PolicyError::missing(
                "[referrals.changes] must have both WORK and WITHDRAW".to_string(),
            ));
        };
        let referral_correct = referral_correct.unwrap_or(0);
        let referral_correct_roles = match &doc.referrals.correct_roles {
            None => act_roles,
            Some(list) => {
                let what = "[referrals] correct_roles";
                let mask = self.mask(list, what)?;
                if mask == 0 || mask & !act_roles != 0 {
                    return Err(self.at(
                        list.span(),
                        PolicyErrorKind::Missing,
                        format!("{what} must name one or more roles of [roles] act"),
                    ));
                }
                mask
            }
        };

        // --- statistics
        let k = *doc.statistics.k.get_ref();
        if k < 2 {
            return Err(self.at(
                doc.statistics.k.span(), PolicyErrorKind::OutOfRange,
                format!("[statistics] k = {k}: the suppression threshold must be at least 2 (k = 1 hides nothing)"),
            ));
        }
        let stats_k = u64::try_from(k).map_err(|_| {
            self.at(
                doc.statistics.k.span(),
                PolicyErrorKind::OutOfRange,
                "[statistics] k is out of range",
            )
        })?;
        let stats_roles = self.mask(&doc.statistics.roles, "[statistics] roles")?;
        if stats_roles & admin_roles != 0 {
            return Err(self.at(
                doc.statistics.roles.span(), PolicyErrorKind::Contradiction,
                "[statistics] roles: the platform's administrators read no aggregates below the public level, so no role may be in both `administer` and here",
            ));
        }
        let stats_anonymous = *doc.statistics.anonymous.get_ref();
        if stats_anonymous == StatsAccess::Exact {
            return Err(self.at(
                doc.statistics.anonymous.span(),
                PolicyErrorKind::Contradiction,
                "[statistics] anonymous can never be EXACT",
            ));
        }
        let placeholder = KindStats {
            mine: StatsAccess::Forbidden,
            network: StatsAccess::Forbidden,
            default: StatsScope::Network,
        };
        let mut stats_kinds = [placeholder; N_KINDS];
        let mut seen_kinds: Mask = 0;
        for (kind, row) in &doc.statistics.kinds.0 {
            seen_kinds |= bit(*kind);
            let r = row.get_ref();
            let (default, access) = match r.default {
                ScopeName::Mine => (StatsScope::Mine, r.mine),
                ScopeName::Network => (StatsScope::Network, r.network),
            };
            if access == StatsAccess::Forbidden {
                return Err(self.at(
                    row.span(),
                    PolicyErrorKind::Contradiction,
                    format!(
                        "[statistics.kinds] {kind}: the default scope is FORBIDDEN for this kind"
                    ),
                ));
            }
            if r.mine == StatsAccess::Release || r.network == StatsAccess::Exact {
                return Err(self.at(
                    row.span(), PolicyErrorKind::Contradiction,
                    format!(
                        "[statistics.kinds] {kind}: MINE is EXACT or FORBIDDEN, NETWORK is RELEASE or FORBIDDEN (network counts come only from releases)"
                    ),
                ));
            }
            stats_kinds[*kind as usize] = KindStats {
                mine: r.mine,
                network: r.network,
                default,
            };
        }
        missing_keys(
            AgencyKind::ALL
                .into_iter()
                .filter(|x| seen_kinds & bit(*x) != 0),
            &AgencyKind::ALL,
            "statistics.kinds",
        )?;
        let release = self.releases(&doc.statistics.releases, stats_k)?;

        // --- network data
        let mut network: [Mask; N_NETWORK_CLASSES] = [0; N_NETWORK_CLASSES];
        let mut seen_network: Mask = 0;
        for (class, list) in &doc.network.0 {
            seen_network |= 1 << (*class as u32);
            let what = format!("[network] {class}");
            let mask = self.mask(list, &what)?;
            let has = |v: NetworkViewer| mask & bit(v) != 0;
            if (has(NetworkViewer::Anonymous) && !has(NetworkViewer::Partner))
                || (has(NetworkViewer::Partner) && !has(NetworkViewer::Owner))
            {
                return Err(self.at(
                    list.span(), PolicyErrorKind::Contradiction,
                    format!("{what}: what ANONYMOUS reads PARTNER must read, and what PARTNER reads OWNER must read"),
                ));
            }
            network[*class as usize] = mask;
        }
        for class in NetworkClass::ALL {
            if seen_network & (1 << (class as u32)) == 0 {
                return Err(PolicyError::missing(format!(
                    "[network] has no entry for {class}"
                )));
            }
        }

        let places = crate::places::PlacesPolicy::build(
            &doc.places,
            case_holders,
            act_roles,
            admin_roles,
            &|span, kind, message| self.at(span, kind, message),
        )?;

        Ok(Policy {
            places,
            version,
            title: doc
                .title
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            law_enforcement,
            row_roles,
            act_roles,
            admin_roles,
            describe_roles,
            case_holders,
            read,
            notes,
            action_roles,
            change_actions,
            change_classes,
            change_fields,
            updatable,
            purposes,
            emergency_hours,
            emergency_purposes,
            emergency_roles,
            referral_requesters,
            referral_targets,
            referral_visibility,
            referral_work,
            referral_withdraw,
            referral_correct,
            referral_correct_roles,
            stats_k,
            stats_roles,
            stats_anonymous,
            stats_kinds,
            release,
            network,
            classes,
            field_list,
        })
    }

    /// Checks `[statistics.releases]`: positive privacy parameters, known dimensions, crossings of
    /// two different ones, no table twice, valid category lists, and a stated yearly exposure no
    /// lower than what the listed tables spend.
    fn releases(
        &self,
        doc: &crate::document::ReleasesDoc,
        k: u64,
    ) -> Result<crate::release::ReleaseSpec, PolicyError> {
        use crate::release::{Granularity, ReleaseSpec, ReleaseSubject, TableSpec};
        const WHAT: &str = "[statistics.releases]";
        let grace = *doc.grace_days.get_ref();
        let grace_days = u32::try_from(grace)
            .ok()
            .filter(|d| *d <= 366)
            .ok_or_else(|| {
                self.at(
                    doc.grace_days.span(),
                    PolicyErrorKind::OutOfRange,
                    format!("{WHAT} grace_days = {grace}: give a number of days from 0 to 366"),
                )
            })?;
        let eps = *doc.epsilon_per_table.get_ref();
        if !(eps.is_finite() && eps > 0.0 && eps <= 10.0) {
            return Err(self.at(
                doc.epsilon_per_table.span(),
                PolicyErrorKind::OutOfRange,
                format!("{WHAT} epsilon_per_table = {eps}: ε must be above 0 and at most 10"),
            ));
        }
        let cap = *doc.exploitations_per_case.get_ref();
        let exploitations_per_case = u32::try_from(cap)
            .ok()
            .filter(|c| (1..=8).contains(c))
            .ok_or_else(|| {
                self.at(
                    doc.exploitations_per_case.span(),
                    PolicyErrorKind::OutOfRange,
                    format!("{WHAT} exploitations_per_case = {cap}: give 1 to 8"),
                )
            })?;
        let mut granularities = Vec::new();
        for name in doc.periods.get_ref() {
            let g: Granularity = name.get_ref().parse().map_err(|_| {
                self.at(
                    name.span(),
                    PolicyErrorKind::Contradiction,
                    format!(
                        "{WHAT} periods: unknown period `{}`, expected MONTH, QUARTER or YEAR",
                        name.get_ref()
                    ),
                )
            })?;
            if granularities.contains(&g) {
                return Err(self.at(
                    name.span(),
                    PolicyErrorKind::Duplicate,
                    format!("{WHAT} periods: {} is listed twice", g.as_str()),
                ));
            }
            granularities.push(g);
        }
        if granularities.is_empty() {
            return Err(self.at(
                doc.periods.span(),
                PolicyErrorKind::Missing,
                format!("{WHAT} periods: list at least one"),
            ));
        }
        let codes = |list: &List<toml::Spanned<String>>, len: usize, what: &str| {
            let mut out: Vec<String> = Vec::new();
            for v in list.get_ref() {
                let code = v.get_ref();
                let ok = code.len() == len && code.bytes().all(|b| b.is_ascii_uppercase());
                if !ok || out.contains(code) {
                    return Err(self.at(
                        v.span(), PolicyErrorKind::Duplicate,
                        format!("{WHAT} {what}: `{code}` is not a {len}-letter upper-case code, or is listed twice"),
                    ));
                }
                out.push(code.clone());
            }
            Ok(out)
        };
        let nationalities = codes(&doc.nationalities, 2, "nationalities")?;
        let provinces = codes(&doc.provinces, 2, "provinces")?;
        let mut tables: Vec<TableSpec> = Vec::new();
        for (subject, list) in [
            (ReleaseSubject::Cases, &doc.case_tables),
            (ReleaseSubject::Referrals, &doc.referral_tables),
            (ReleaseSubject::Placements, &doc.placement_tables),
        ] {
            for t in list.get_ref() {
                let dims = t.get_ref();
                let known = dims
                    .iter()
                    .all(|d| subject.dimensions().contains(&d.as_str()));
                let shape = matches!(dims.len(), 1 | 2) && !(dims.len() == 2 && dims[0] == dims[1]);
                if !known || !shape {
                    return Err(self.at(
                        t.span(), PolicyErrorKind::Contradiction,
                        format!(
                            "{WHAT} {} tables: {dims:?} must be one dimension or two different ones among {:?}",
                            subject.as_str(),
                            subject.dimensions()
                        ),
                    ));
                }
                let spec = TableSpec {
                    subject,
                    dimensions: dims.clone(),
                };
                let views: Vec<&str> = dims.iter().map(String::as_str).collect();
                if tables.iter().any(|x| {
                    x.subject == subject
                        && x.dimensions.len() == dims.len()
                        && (x.dimensions == *dims
                            || x.dimensions
                                .iter()
                                .rev()
                                .map(String::as_str)
                                .eq(views.iter().copied()))
                }) {
                    return Err(self.at(
                        t.span(),
                        PolicyErrorKind::Duplicate,
                        format!("{WHAT}: the table {dims:?} is listed twice"),
                    ));
                }
                tables.push(spec);
            }
        }
        if tables.is_empty() {
            return Err(self.at(
                doc.case_tables.span(),
                PolicyErrorKind::Missing,
                format!("{WHAT}: list at least one table"),
            ));
        }
        let spec = ReleaseSpec {
            grace_days,
            epsilon_per_table: eps,
            epsilon_per_year: *doc.epsilon_per_year.get_ref(),
            granularities,
            tables,
            nationalities,
            provinces,
            exploitations_per_case,
            k,
        };
        let spent = spec.exposure_per_year();
        let stated = spec.epsilon_per_year;
        // A little slack for the decimal the document writes the figure with.
        if !(stated.is_finite() && stated + 1e-9 >= spent) {
            return Err(self.at(
                doc.epsilon_per_year.span(), PolicyErrorKind::Contradiction,
                format!(
                    "{WHAT} epsilon_per_year = {stated}: the releases listed expose a person's data to ε = {spent} a year; state at least that"
                ),
            ));
        }
        Ok(spec)
    }

    /// Checks the `[fields.T]` tables and indexes them.
    #[allow(clippy::type_complexity)]
    fn fields(
        &self,
        tables: &OrderedMap<
            toml::Spanned<String>,
            OrderedMap<toml::Spanned<String>, toml::Spanned<crate::document::ClassName>>,
        >,
    ) -> Result<
        (
            FastMap<String, FastMap<String, FieldClass>>,
            Vec<(String, String, FieldClass)>,
        ),
        PolicyError,
    > {
        let mut classes: FastMap<String, FastMap<String, FieldClass>> = FastMap::default();
        let mut list = Vec::new();
        let mut spans = Vec::new();
        for (type_name, fields) in &tables.0 {
            let t = type_name.get_ref();
            if !is_graphql_name(t) {
                return Err(self.at(
                    type_name.span(),
                    PolicyErrorKind::UnknownName,
                    format!("`{t}` is not a GraphQL type name"),
                ));
            }
            if classes.contains_key(t.as_str()) {
                return Err(self.at(
                    type_name.span(),
                    PolicyErrorKind::Duplicate,
                    format!("[fields.{t}] appears twice"),
                ));
            }
            let mut by_field: FastMap<String, FieldClass> = FastMap::default();
            for (field, class) in &fields.0 {
                let f = field.get_ref();
                let class = class.get_ref().0;
                if !is_graphql_name(f) {
                    return Err(self.at(
                        field.span(),
                        PolicyErrorKind::UnknownName,
                        format!("`{t}.{f}` is not a GraphQL field name"),
                    ));
                }
                if by_field.insert(f.clone(), class).is_some() {
                    return Err(self.at(
                        field.span(),
                        PolicyErrorKind::Duplicate,
                        format!("{t}.{f} is classified twice"),
                    ));
                }
                // The two row types carry only their own vocabulary (ACCESS.md sections 2 and 6).
                let fits = match t.as_str() {
                    "Case" => matches!(class, FieldClass::Case(_)),
                    "Referral" => matches!(class, FieldClass::Referral(_)),
                    _ => true,
                };
                if !fits {
                    return Err(self.at(
                        field.span(),
                        PolicyErrorKind::Contradiction,
                        format!(
                            "{t}.{f} is {class}, but every field of {t} needs a {} class",
                            if t == "Case" { "case" } else { "referral" }
                        ),
                    ));
                }
                list.push((t.clone(), f.clone(), class));
                spans.push(field.span());
            }
            classes.insert(t.clone(), by_field);
        }
        for required in ["Case", "Referral"] {
            if !classes.contains_key(required) {
                return Err(PolicyError::missing(format!(
                    "the document must classify the fields of {required} in a [fields.{required}] table"
                )));
            }
        }
        // An input or filter of a row type (`CaseInput`, `CasePatch`, `CaseFilter`,
        // `ReferralInput`...) must give a field the same class as the row type does, or a filter
        // or an update could reach data that the read rules hide.
        for ((t, f, class), span) in list.iter().zip(spans) {
            let Some(home) = ["Case", "Referral"].into_iter().find(|home| {
                t.strip_prefix(home)
                    .is_some_and(|rest| ["Input", "Patch", "Filter"].contains(&rest))
            }) else {
                continue;
            };
            if let Some(home_class) = classes.get(home).and_then(|m| m.get(f.as_str())) {
                if home_class != class {
                    return Err(self.at(
                        span, PolicyErrorKind::Contradiction,
                        format!("{t}.{f} is {class} but {home}.{f} is {home_class}; the same field must have the same class"),
                    ));
                }
            }
        }
        Ok((classes, list))
    }
}

/// The first value of `all` that `present` lacks is an error naming the table.
fn missing_keys<T: Named + PartialEq>(
    present: impl Iterator<Item = T>,
    all: &[T],
    table: &str,
) -> Result<(), PolicyError> {
    let present: Vec<T> = present.collect();
    match all.iter().find(|x| !present.contains(x)) {
        Some(x) => Err(PolicyError::missing(format!(
            "[{table}] has no entry for {}: every one must be stated",
            x.name()
        ))),
        None => Ok(()),
    }
}

/// `[_A-Za-z][_0-9A-Za-z]*`, the GraphQL name grammar.
fn is_graphql_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_clamped() {
        let text = "a\nbb\nccc";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 1), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 5), 3);
        assert_eq!(line_at(text, 999), 3);
    }

    #[test]
    fn graphql_names() {
        for ok in ["Case", "_Service", "_entities", "a1", "gbvRiskLevel"] {
            assert!(is_graphql_name(ok), "{ok}");
        }
        for bad in ["", "1a", "has-next", "Page Info", "è"] {
            assert!(!is_graphql_name(bad), "{bad}");
        }
    }

    #[test]
    fn tables_are_indexed_by_discriminant() {
        // The arrays in `Policy` rely on discriminants 0..N in declaration order.
        for (i, r) in Relationship::ALL.into_iter().enumerate() {
            assert_eq!(r as usize, i);
        }
        for (i, a) in ActionName::ALL.into_iter().enumerate() {
            assert_eq!(a as usize, i);
        }
        for (i, k) in AgencyKind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
        }
    }
}
