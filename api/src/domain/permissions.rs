//! What a viewer may do with one case, told to clients as `Case.access.actions` and
//! `writableFields`. Each answer is the very `Policy::may` question the mutation asks before it
//! writes (the action named here is the one its guard names), so the two cannot disagree.

use raccordo_entities::{case, referral};
use raccordo_policies::{CaseAction, Policy, ReferralRelation, RelationshipSet, Viewer};

use super::{
    case_input::PATCH_FIELDS,
    enums::{CasePhase, ReferralStatus},
    referrals::is_final,
};

/// The mutations on a case whose guard asks `may` about `action` (queries such as the access
/// log are not listed: `actions` names mutations).
fn mutations_of(action: CaseAction) -> &'static [&'static str] {
    match action {
        CaseAction::UpdateField(_) => &["updateCase"],
        CaseAction::ChangePhase => &["reopenCase"],
        CaseAction::Close => &["closeCase"],
        CaseAction::AddNote => &["addCaseNote"],
        CaseAction::ManageConsents => &["recordConsent", "revokeConsent"],
        CaseAction::Share => &["shareCase", "revokeShare"],
        CaseAction::RequestTransfer => &["requestTransfer", "cancelTransfer"],
        CaseAction::DecideTransfer => &["acceptTransfer", "rejectTransfer"],
        CaseAction::ReadAccessLog | CaseAction::ReviewEmergencyShares => &[],
    }
}

/// The case field the pathway's activities are changed through (`addActivity`, `endActivity`).
pub const ACTIVITIES: CaseAction = CaseAction::UpdateField("activities");

/// The mutations `viewer` may call on `row` and the `CasePatch` fields it may set, given its
/// relationships. A closed case is reopened, not closed again, and its phase is not patched.
pub fn case_permissions(
    policy: &Policy,
    viewer: &Viewer,
    rels: RelationshipSet,
    row: &case::Model,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let closed = row.phase == CasePhase::Closed.as_str();
    let case_fields: Vec<&'static str> = PATCH_FIELDS.iter().map(|(_, f)| *f).collect();
    let writable: Vec<&'static str> = policy.writable_fields(viewer, rels, &case_fields).collect();
    let mut fields: Vec<&'static str> = PATCH_FIELDS
        .iter()
        .filter(|(_, f)| writable.contains(f))
        .map(|(patch, _)| *patch)
        .collect();
    let permitted: Vec<CaseAction> = policy.permitted_actions(viewer, rels).collect();
    if !closed && permitted.contains(&CaseAction::ChangePhase) {
        fields.push("phase");
    }
    let mut actions: Vec<&'static str> = Vec::new();
    if !fields.is_empty() {
        actions.extend(mutations_of(CaseAction::UpdateField("")));
    }
    if policy.may(viewer, rels, ACTIVITIES) {
        actions.extend(["addActivity", "endActivity"]);
    }
    for action in permitted {
        let applies = match action {
            CaseAction::ChangePhase => closed,
            CaseAction::Close => !closed,
            _ => true,
        };
        if applies {
            actions.extend(mutations_of(action));
        }
    }
    (actions, fields)
}

/// The referral fields a conclusion or a correction sets.
const CONCLUSION_FIELDS: [&str; 4] = ["concludedOn", "outcome", "programmeAdhesion", "outcomeNote"];

/// The mutations `viewer` may call on referral `row` and the fields they set, given its relation
/// to it: the same `may_work_referral`, `may_withdraw_referral` and `may_correct_referral`
/// questions the mutations ask, and the same states they accept.
pub fn referral_permissions(
    policy: &Policy,
    viewer: &Viewer,
    relation: ReferralRelation,
    row: &referral::Model,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let open = !is_final(&row.status);
    let mut actions = Vec::new();
    let mut fields = Vec::new();
    if open && policy.may_work_referral(viewer, relation) {
        actions.extend([
            "scheduleReferral",
            "recordReferralInterview",
            "concludeReferral",
            "markReferralUnreachable",
        ]);
        fields.extend(CONCLUSION_FIELDS);
    }
    if open && policy.may_withdraw_referral(viewer, relation) {
        actions.push("withdrawReferral");
    }
    if row.status == ReferralStatus::Concluded.as_str()
        && policy.may_correct_referral(viewer, relation)
    {
        actions.push("correctReferral");
        fields.extend(CONCLUSION_FIELDS);
    }
    (actions, fields)
}
