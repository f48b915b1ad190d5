//! Reading and changing cases (ACCESS.md sections 3, 4, 5), checked cell by cell.

mod common;

use common::*;
use raccordo_policies::*;
use DataClass::*;
use Relationship::*;

/// ACCESS.md section 4, transcribed: (class, [OWNER, JOINT, PERMIT, TRANSFER, SERVICE, JUDICIAL]).
const SECTION_4: [(DataClass, [bool; 6]); 9] = [
    (Base, [true, true, true, true, true, true]),
    (Profile, [true, true, false, true, true, true]),
    (Identity, [true, true, true, true, true, true]),
    (Location, [true, false, false, false, false, false]),
    (Legal, [true, true, true, true, false, false]),
    (DataClass::Judicial, [true, false, false, true, false, true]),
    (Health, [true, false, false, true, true, false]),
    (Gbv, [true, true, false, false, false, false]),
    (Pathway, [true, true, false, true, false, false]),
];

/// The NOTES row of section 4.
fn expected_notes(rel: Relationship) -> NotesScope {
    match rel {
        Owner => NotesScope::All,
        Joint => NotesScope::OwnAndSharedWithJoint,
        _ => NotesScope::None,
    }
}

/// What section 4 says one relationship reads (NOTES included when any notes are readable).
fn expected_read(rel: Relationship) -> ClassSet {
    let mut set: ClassSet = SECTION_4
        .iter()
        .filter(|(_, row)| row[rel as usize])
        .map(|(c, _)| *c)
        .collect();
    if expected_notes(rel) != NotesScope::None {
        set.insert(Notes);
    }
    set
}

#[test]
fn section_4_cell_by_cell_for_every_relationship() {
    let p = policy();
    for role in [UserRole::Operator, UserRole::Coordinator] {
        for kind in AgencyKind::ALL {
            let v = viewer(role, kind);
            for rel in Relationship::ALL {
                let got = p.readable_classes(&v, rels(&[rel]));
                for (class, row) in SECTION_4 {
                    assert_eq!(
                        got.contains(class),
                        row[rel as usize],
                        "{role} of {kind}, {rel}, {class}"
                    );
                }
                assert_eq!(
                    p.notes_scope(&v, rels(&[rel])),
                    expected_notes(rel),
                    "{rel}"
                );
                assert_eq!(
                    got.contains(Notes),
                    expected_notes(rel) != NotesScope::None,
                    "{rel} NOTES"
                );
            }
        }
    }
}

#[test]
fn several_relationships_read_the_union() {
    let p = policy();
    let v = viewer(UserRole::Operator, AgencyKind::EnteAntitratta);
    for set in all_rel_sets() {
        let expected = set
            .iter()
            .fold(ClassSet::empty(), |acc, r| acc.union(expected_read(r)));
        assert_eq!(
            p.readable_classes(&v, set),
            expected,
            "{:?}",
            set.iter().collect::<Vec<_>>()
        );
        let notes = if set.contains(Owner) {
            NotesScope::All
        } else if set.contains(Joint) {
            NotesScope::OwnAndSharedWithJoint
        } else {
            NotesScope::None
        };
        assert_eq!(p.notes_scope(&v, set), notes);
    }
    // Two concrete unions from the table: PERMIT + SERVICE and JOINT + JUDICIAL.
    let permit_service = p.readable_classes(&v, rels(&[Permit, Service]));
    assert_eq!(
        permit_service.iter().collect::<Vec<_>>(),
        [Base, Profile, Identity, Legal, Health]
    );
    let joint_judicial = p.readable_classes(&v, rels(&[Joint, Relationship::Judicial]));
    assert_eq!(
        joint_judicial.iter().collect::<Vec<_>>(),
        [
            Base,
            Profile,
            Identity,
            Legal,
            DataClass::Judicial,
            Gbv,
            Pathway,
            Notes
        ]
    );
}

#[test]
fn none_reads_nothing() {
    let p = policy();
    for v in all_viewers() {
        assert!(p.readable_classes(&v, RelationshipSet::empty()).is_empty());
        assert_eq!(
            p.notes_scope(&v, RelationshipSet::empty()),
            NotesScope::None
        );
    }
}

#[test]
fn every_role_with_every_kind() {
    let p = policy();
    let everything = RelationshipSet::all();
    for v in all_viewers() {
        let got = p.readable_classes(&v, everything);
        let rows = acting(v.role) && v.agency_kind.is_some();
        if rows {
            assert_eq!(got, ClassSet::all(), "{v:?}");
            assert_eq!(p.notes_scope(&v, everything), NotesScope::All);
        } else {
            // ANALYST, PLATFORM_ADMIN, and anyone without an agency: no rows at all.
            assert!(got.is_empty(), "{v:?}");
            assert_eq!(p.notes_scope(&v, everything), NotesScope::None, "{v:?}");
        }
        for rel in Relationship::ALL {
            let one = p.readable_classes(&v, rels(&[rel]));
            assert_eq!(
                one,
                if rows {
                    expected_read(rel)
                } else {
                    ClassSet::empty()
                },
                "{v:?} {rel}"
            );
        }
    }
    assert!(p.role_gets_rows(UserRole::Operator) && p.role_gets_rows(UserRole::Coordinator));
    assert!(!p.role_gets_rows(UserRole::Analyst) && !p.role_gets_rows(UserRole::PlatformAdmin));
    assert!(p.role_may_act(UserRole::Coordinator) && !p.role_may_act(UserRole::Analyst));
}

const CASE_FIELDS: &[&str] = &[
    "id",
    "code",
    "owner",
    "project",
    "phase",
    "openedOn",
    "closedOn",
    "version",
    "access",
    "gender",
    "ageGroup",
    "nationality",
    "exploitation",
    "emersionChannel",
    "emersionProvince",
    "accompanyingMinors",
    "pregnant",
    "alias",
    "legalName",
    "birthDate",
    "phone",
    "shelter",
    "permitAtStart",
    "permitCurrent",
    "permitExpiresOn",
    "asylumStatus",
    "complaintFiled",
    "complaintFiledOn",
    "healthNotes",
    "psychSupport",
    "gbvIndicators",
    "gbvRiskLevel",
    "activities",
    "outcome",
    "outcomeOn",
    "history",
    "notes",
    // the input-only name for the shelter, from CasePatch
    "shelterId",
    // not a field at all
    "noSuchField",
    "",
];

fn all_actions() -> Vec<CaseAction> {
    let mut out = vec![
        CaseAction::ChangePhase,
        CaseAction::Close,
        CaseAction::AddNote,
        CaseAction::ManageConsents,
        CaseAction::Share,
        CaseAction::RequestTransfer,
        CaseAction::DecideTransfer,
        CaseAction::ReadAccessLog,
        CaseAction::ReviewEmergencyShares,
    ];
    out.extend(CASE_FIELDS.iter().copied().map(CaseAction::UpdateField));
    out
}

/// Section 5 (and the brief), written out independently of the document.
fn expected_may(role: UserRole, rel: Relationship, action: CaseAction) -> bool {
    use CaseAction::*;
    if !acting(role) {
        return false;
    }
    let coordinator_only = matches!(
        action,
        RequestTransfer | DecideTransfer | ReadAccessLog | ReviewEmergencyShares
    );
    if coordinator_only && role != UserRole::Coordinator {
        return false;
    }
    match rel {
        Owner => match action {
            DecideTransfer => false,
            UpdateField(f) => !matches!(f, "noSuchField" | ""),
            _ => true,
        },
        Joint => matches!(
            action,
            AddNote | UpdateField("gbvIndicators" | "gbvRiskLevel")
        ),
        Permit => matches!(action, UpdateField("permitCurrent" | "permitExpiresOn")),
        Transfer => matches!(action, DecideTransfer),
        Service | Relationship::Judicial => false,
    }
}

#[test]
fn may_for_every_action_relationship_and_role() {
    let p = policy();
    let mut checked = 0;
    for v in all_viewers() {
        for rel in Relationship::ALL {
            for action in all_actions() {
                let expected = v.agency_kind.is_some() && expected_may(v.role, rel, action);
                assert_eq!(
                    p.may(&v, rels(&[rel]), action),
                    expected,
                    "{v:?} {rel} {action:?}"
                );
                checked += 1;
            }
        }
        for action in all_actions() {
            assert!(
                !p.may(&v, RelationshipSet::empty(), action),
                "NONE may nothing: {v:?} {action:?}"
            );
        }
    }
    assert!(checked > 10_000);
}

#[test]
fn may_over_several_relationships_is_the_union() {
    let p = policy();
    for role in UserRole::ALL {
        let v = viewer(role, AgencyKind::EnteAntitratta);
        for set in all_rel_sets() {
            for action in all_actions() {
                let expected = set.iter().any(|r| expected_may(role, r, action));
                assert_eq!(p.may(&v, set, action), expected, "{role} {action:?}");
            }
        }
    }
}

#[test]
fn purposes_recipients_and_relationships() {
    use AgencyKind::*;
    use SharePurpose::*;
    let p = policy();
    let table: [(SharePurpose, &[AgencyKind], Relationship); 5] = [
        (
            JointManagement,
            &[EnteAntitratta, CentroAntiviolenza],
            Joint,
        ),
        (PermitProcedure, &[Questura], Permit),
        (
            SharePurpose::Transfer,
            &[EnteAntitratta],
            Relationship::Transfer,
        ),
        (ServiceReferral, &[ServiziTerritoriali], Service),
        (
            JudicialCooperation,
            &[ForzeOrdine, Procura],
            Relationship::Judicial,
        ),
    ];
    for (purpose, kinds, rel) in table {
        for kind in AgencyKind::ALL {
            assert_eq!(
                p.purpose_allows_recipient(purpose, kind),
                kinds.contains(&kind),
                "{purpose} -> {kind}"
            );
        }
        assert_eq!(p.relationship_for(purpose), rel);
        assert_eq!(
            p.purpose_uses_share(purpose),
            purpose != SharePurpose::Transfer
        );
    }
    for kind in AgencyKind::ALL {
        assert_eq!(p.is_law_enforcement(kind), kind.is_law_enforcement());
    }
}

#[test]
fn emergency_shares() {
    use SharePurpose::*;
    let p = policy();
    assert_eq!(p.emergency_max_hours(), 72);
    for purpose in SharePurpose::ALL {
        assert_eq!(
            p.emergency_allowed(purpose),
            matches!(purpose, JudicialCooperation | ServiceReferral),
            "{purpose}"
        );
    }
    let coordinator = viewer(UserRole::Coordinator, AgencyKind::EnteAntitratta);
    let operator = viewer(UserRole::Operator, AgencyKind::EnteAntitratta);
    let owner = rels(&[Owner]);
    assert!(p.may_emergency_share(&coordinator, owner, JudicialCooperation));
    assert!(p.may_emergency_share(&coordinator, owner, ServiceReferral));
    assert!(!p.may_emergency_share(&coordinator, owner, JointManagement));
    assert!(!p.may_emergency_share(&coordinator, owner, SharePurpose::Transfer));
    // An OPERATOR cannot make one; nor can a joint partner's coordinator.
    assert!(!p.may_emergency_share(&operator, owner, JudicialCooperation));
    assert!(!p.may_emergency_share(&coordinator, rels(&[Joint]), JudicialCooperation));
    for role in [UserRole::Analyst, UserRole::PlatformAdmin] {
        let v = viewer(role, AgencyKind::EnteAntitratta);
        assert!(!p.may_emergency_share(&v, owner, JudicialCooperation));
    }
}

#[test]
fn administration_and_creation() {
    let p = policy();
    let admin = Viewer {
        role: UserRole::PlatformAdmin,
        agency_kind: None,
    };
    assert!(p.may_administer(&admin));
    assert!(!p.may_create_case(&admin));
    assert!(!p.may_create_referral(&admin));
    for v in all_viewers() {
        if v.role != UserRole::PlatformAdmin {
            assert!(!p.may_administer(&v), "{v:?}");
        }
        assert_eq!(
            p.may_create_case(&v),
            acting(v.role) && v.agency_kind == Some(AgencyKind::EnteAntitratta),
            "{v:?}"
        );
        assert_eq!(
            p.may_create_referral(&v),
            acting(v.role)
                && v.agency_kind
                    .is_some_and(|k| k != AgencyKind::Coordinamento),
            "{v:?}"
        );
    }
}

/// What a client is told a viewer may do (`Case.access.actions` / `writableFields`) is the same
/// `may` the changes ask: a questura with PERMIT sets `permitCurrent` and `permitExpiresOn`, not
/// `permitAtStart`, and takes no other action; an owner's operator does what the owner may except
/// the coordinators' actions; nobody with NONE does anything.
#[test]
fn permitted_actions_and_writable_fields() {
    let p = policy();
    let legal: [&'static str; 3] = ["permitAtStart", "permitCurrent", "permitExpiresOn"];
    let questura = viewer(UserRole::Operator, AgencyKind::Questura);
    assert_eq!(
        p.writable_fields(&questura, rels(&[Permit]), &legal)
            .collect::<Vec<_>>(),
        ["permitCurrent", "permitExpiresOn"]
    );
    assert_eq!(p.permitted_actions(&questura, rels(&[Permit])).count(), 0);
    let operator = viewer(UserRole::Operator, AgencyKind::EnteAntitratta);
    assert_eq!(
        p.permitted_actions(&operator, rels(&[Owner]))
            .collect::<Vec<_>>(),
        [
            CaseAction::ChangePhase,
            CaseAction::Close,
            CaseAction::AddNote,
            CaseAction::ManageConsents,
            CaseAction::Share,
        ]
    );
    assert_eq!(
        p.writable_fields(&operator, rels(&[Owner]), &legal).count(),
        3
    );
    let coordinator = viewer(UserRole::Coordinator, AgencyKind::EnteAntitratta);
    assert_eq!(
        p.permitted_actions(&coordinator, rels(&[Transfer]))
            .collect::<Vec<_>>(),
        [CaseAction::DecideTransfer]
    );
    for v in [questura, operator, coordinator] {
        assert_eq!(p.permitted_actions(&v, rels(&[])).count(), 0);
        assert_eq!(p.writable_fields(&v, rels(&[]), &legal).count(), 0);
    }
    // Every answer is one `may` call.
    for rel in Relationship::ALL {
        for a in CaseAction::ACTIONS {
            assert_eq!(
                p.permitted_actions(&coordinator, rels(&[rel]))
                    .any(|x| x == a),
                p.may(&coordinator, rels(&[rel]), a)
            );
        }
    }
}
