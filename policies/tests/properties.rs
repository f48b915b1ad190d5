//! Properties of the evaluator over random viewers and relationship sets.

mod common;

use common::*;
use proptest::prelude::*;
use raccordo_policies::*;

fn any_viewer() -> impl Strategy<Value = Viewer> {
    (0usize..4, prop::option::of(0usize..10)).prop_map(|(r, k)| Viewer {
        role: UserRole::ALL[r],
        agency_kind: k.map(|k| AgencyKind::ALL[k]),
    })
}

fn any_rels() -> impl Strategy<Value = RelationshipSet> {
    (0u32..64).prop_map(|bits| {
        Relationship::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, r)| r)
            .collect()
    })
}

fn any_rel() -> impl Strategy<Value = Relationship> {
    (0usize..6).prop_map(|i| Relationship::ALL[i])
}

const FIELDS: &[&str] = &[
    "phase",
    "nationality",
    "legalName",
    "shelter",
    "shelterId",
    "permitCurrent",
    "permitExpiresOn",
    "complaintFiled",
    "healthNotes",
    "gbvIndicators",
    "gbvRiskLevel",
    "outcome",
    "notes",
    "nope",
];

fn any_action() -> impl Strategy<Value = CaseAction> {
    prop_oneof![
        Just(CaseAction::ChangePhase),
        Just(CaseAction::Close),
        Just(CaseAction::AddNote),
        Just(CaseAction::ManageConsents),
        Just(CaseAction::Share),
        Just(CaseAction::RequestTransfer),
        Just(CaseAction::DecideTransfer),
        Just(CaseAction::ReadAccessLog),
        Just(CaseAction::ReviewEmergencyShares),
        (0usize..FIELDS.len()).prop_map(|i| CaseAction::UpdateField(FIELDS[i])),
    ]
}

fn notes_rank(s: NotesScope) -> u8 {
    match s {
        NotesScope::None => 0,
        NotesScope::OwnAndSharedWithJoint => 1,
        NotesScope::All => 2,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adding_a_relationship_never_removes_anything(v in any_viewer(), set in any_rels(), extra in any_rel(), action in any_action()) {
        let p = policy();
        let more = set.with(extra);
        let before = p.readable_classes(&v, set);
        let after = p.readable_classes(&v, more);
        prop_assert!(before.is_subset(after));
        prop_assert!(notes_rank(p.notes_scope(&v, set)) <= notes_rank(p.notes_scope(&v, more)));
        if p.may(&v, set, action) {
            prop_assert!(p.may(&v, more, action));
        }
    }

    #[test]
    fn the_empty_set_reads_and_changes_nothing(v in any_viewer(), action in any_action()) {
        let p = policy();
        prop_assert!(p.readable_classes(&v, RelationshipSet::empty()).is_empty());
        prop_assert_eq!(p.notes_scope(&v, RelationshipSet::empty()), NotesScope::None);
        prop_assert!(!p.may(&v, RelationshipSet::empty(), action));
    }

    #[test]
    fn analyst_and_platform_admin_get_no_rows(
        admin in any::<bool>(),
        kind in prop::option::of(0usize..10),
        set in any_rels(),
        action in any_action(),
        t in any::<bool>(),
        r in any::<bool>(),
        purpose in 0usize..5,
    ) {
        let p = policy();
        let v = Viewer {
            role: if admin { UserRole::PlatformAdmin } else { UserRole::Analyst },
            agency_kind: kind.map(|k| AgencyKind::ALL[k]),
        };
        let rel = ReferralRelation { is_target: t, is_requester: r };
        prop_assert!(p.readable_classes(&v, set).is_empty());
        prop_assert_eq!(p.notes_scope(&v, set), NotesScope::None);
        prop_assert!(!p.may(&v, set, action));
        prop_assert!(p.referral_classes(&v, rel).is_empty());
        prop_assert!(!p.may_work_referral(&v, rel));
        prop_assert!(!p.may_withdraw_referral(&v, rel));
        prop_assert!(!p.may_emergency_share(&v, set, SharePurpose::ALL[purpose]));
        prop_assert!(!p.may_create_case(&v));
        prop_assert!(!p.may_create_referral(&v));
    }

    #[test]
    fn base_is_always_readable_with_a_relationship(v in any_viewer(), set in any_rels()) {
        let p = policy();
        let has_rows = p.role_gets_rows(v.role) && v.agency_kind.is_some();
        let got = p.readable_classes(&v, set);
        if has_rows && !set.is_empty() {
            prop_assert!(got.contains(DataClass::Base));
        }
        // Reading anything implies reading BASE.
        if !got.is_empty() {
            prop_assert!(got.contains(DataClass::Base));
        }
    }

    #[test]
    fn a_change_is_only_to_what_can_be_read(v in any_viewer(), set in any_rels(), i in 0usize..FIELDS.len()) {
        let p = policy();
        let field = FIELDS[i];
        if p.may(&v, set, CaseAction::UpdateField(field)) {
            let class = p.class_of("Case", field).or_else(|| p.class_of("CasePatch", field));
            let Some(FieldClass::Case(class)) = class else {
                return Err(TestCaseError::fail(format!("{field} updatable but not a case field")));
            };
            prop_assert!(p.readable_classes(&v, set).contains(class));
        }
    }
}
