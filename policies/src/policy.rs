//! The loaded protocol document and the evaluator.
//!
//! Loading (`validate.rs`) turns the document into the bit sets and arrays held here, so every
//! decision below is a handful of mask operations or one hash look-up: no allocation, no
//! search through the document at request time.

use crate::document::{ActionName, NetworkViewer, ReferralViewer, StatsAccess};
use crate::hash::FastMap;
use crate::{
    AgencyKind, CaseAction, ClassSet, DataClass, FieldClass, NetworkClass, NotesScope,
    ReferralClassSet, ReferralRelation, Relationship, RelationshipSet, SharePurpose, StatCell,
    StatsGrant, StatsScope, UserRole, Viewer,
};

/// Errors of this crate: a document that cannot be loaded or does not hold together. Each names
/// its [`PolicyErrorKind`] and, when one value is at fault, its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not valid TOML or has an unknown/missing key.
    #[error("line {line}: {message}")]
    Syntax {
        /// Where the parser stopped.
        line: usize,
        /// What the parser expected.
        message: String,
    },
    /// The document parsed, but the value at `line` breaks a rule.
    #[error("line {line}: {message}")]
    Invalid {
        /// Where the offending value starts.
        line: usize,
        /// What kind of mistake it is.
        kind: PolicyErrorKind,
        /// The rule, in the document's terms.
        message: String,
    },
    /// The document as a whole lacks something (no one line is at fault).
    #[error("{message}")]
    Document {
        /// What kind of mistake it is.
        kind: PolicyErrorKind,
        /// The rule, in the document's terms.
        message: String,
    },
}

/// What kind of mistake a refused document makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyErrorKind {
    /// Not TOML, or a key the document format does not have (or lacks).
    Syntax,
    /// A name that is not a type, field, code or value of the protocol.
    UnknownName,
    /// A value listed twice.
    Duplicate,
    /// A number outside its range.
    OutOfRange,
    /// Something the document must state is not there.
    Missing,
    /// Two statements that cannot both hold.
    Contradiction,
}

impl PolicyError {
    /// A missing statement of the document as a whole.
    pub(crate) fn missing(message: impl Into<String>) -> Self {
        PolicyError::Document {
            kind: PolicyErrorKind::Missing,
            message: message.into(),
        }
    }

    /// The line at fault, when one is.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::Syntax { line, .. } | PolicyError::Invalid { line, .. } => Some(*line),
            PolicyError::Document { .. } => None,
        }
    }

    /// What kind of mistake it is.
    pub fn kind(&self) -> PolicyErrorKind {
        match self {
            PolicyError::Syntax { .. } => PolicyErrorKind::Syntax,
            PolicyError::Invalid { kind, .. } | PolicyError::Document { kind, .. } => *kind,
        }
    }
}

/// A bit mask over the values of one of the protocol's enums (bit `i` = discriminant `i`).
pub(crate) type Mask = u32;

/// An enum value's bit in a [`Mask`].
pub(crate) fn bit<T: Into<Mask>>(x: T) -> Mask {
    1 << x.into()
}

macro_rules! into_mask_index {
    ($($ty:ty),+) => {
        $(impl From<$ty> for Mask {
            fn from(x: $ty) -> Mask {
                x as Mask
            }
        })+
    };
}
into_mask_index!(
    AgencyKind,
    UserRole,
    SharePurpose,
    Relationship,
    ActionName,
    ReferralViewer,
    NetworkViewer
);

// Array sizes tied to the enums, so adding a value without widening the tables cannot compile.
pub(crate) const N_RELATIONSHIPS: usize = Relationship::ALL.len();
pub(crate) const N_PURPOSES: usize = SharePurpose::ALL.len();
pub(crate) const N_KINDS: usize = AgencyKind::ALL.len();
pub(crate) const N_ACTIONS: usize = ActionName::ALL.len();
pub(crate) const N_REFERRAL_VIEWERS: usize = ReferralViewer::ALL.len();
pub(crate) const N_NETWORK_CLASSES: usize = NetworkClass::ALL.len();

/// What one purpose means (ACCESS.md section 3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PurposeRule {
    pub relationship: Relationship,
    pub recipients: Mask,
    /// `false`: only through a transfer request, never a share.
    pub by_share: bool,
}

/// One row of the statistics table (ACCESS.md section 7).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindStats {
    pub mine: StatsAccess,
    pub network: StatsAccess,
    pub default: StatsScope,
}

/// A case field that can be named in `CaseAction::UpdateField`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpdatableField {
    pub class: DataClass,
    /// Relationships whose `[change.X] fields` list names this field explicitly.
    pub explicit: RelationshipSet,
}

/// What of an agency's registry entry a viewer may change ([`Policy::agency_edit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgencyEdit {
    /// Every field, the kind and the operational contact included (the platform admin).
    Everything,
    /// Only the public fields of ACCESS.md §8 (its own coordinators).
    PublicFields,
    /// Nothing.
    Nothing,
}

/// The protocol document, validated and indexed for fast decisions.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) version: String,
    pub(crate) title: Option<String>,
    pub(crate) law_enforcement: Mask,
    pub(crate) row_roles: Mask,
    pub(crate) act_roles: Mask,
    pub(crate) admin_roles: Mask,
    /// Roles that keep their own agency's public fields up to date (`[roles] describe`).
    pub(crate) describe_roles: Mask,
    pub(crate) case_holders: Mask,
    /// Indexed by `Relationship as usize`. NOTES is included when the notes scope is not `None`.
    pub(crate) read: [ClassSet; N_RELATIONSHIPS],
    pub(crate) notes: [NotesScope; N_RELATIONSHIPS],
    /// Indexed by `ActionName as usize`: roles that may perform the action at all.
    pub(crate) action_roles: [Mask; N_ACTIONS],
    /// Indexed by `Relationship as usize`: mask over `ActionName`.
    pub(crate) change_actions: [Mask; N_RELATIONSHIPS],
    pub(crate) change_classes: [ClassSet; N_RELATIONSHIPS],
    /// Explicit fields per relationship, in document order (for the matrix).
    pub(crate) change_fields: [Vec<String>; N_RELATIONSHIPS],
    pub(crate) updatable: FastMap<String, UpdatableField>,
    pub(crate) purposes: [PurposeRule; N_PURPOSES],
    pub(crate) emergency_hours: u32,
    pub(crate) emergency_purposes: Mask,
    pub(crate) emergency_roles: Mask,
    pub(crate) referral_requesters: Mask,
    pub(crate) referral_targets: Mask,
    /// Indexed by `ReferralViewer as usize`.
    pub(crate) referral_visibility: [ReferralClassSet; N_REFERRAL_VIEWERS],
    /// Masks over `ReferralViewer`.
    pub(crate) referral_work: Mask,
    pub(crate) referral_withdraw: Mask,
    /// Mask over `ReferralViewer`: who corrects a concluded referral.
    pub(crate) referral_correct: Mask,
    /// Mask over `UserRole`: the roles that may correct.
    pub(crate) referral_correct_roles: Mask,
    pub(crate) stats_k: u64,
    pub(crate) stats_roles: Mask,
    pub(crate) stats_anonymous: StatsAccess,
    /// Indexed by `AgencyKind as usize`.
    pub(crate) stats_kinds: [KindStats; N_KINDS],
    /// Network releases: shape and privacy parameters.
    pub(crate) release: crate::release::ReleaseSpec,
    /// Indexed by `NetworkClass as usize`: mask over `NetworkViewer`.
    pub(crate) network: [Mask; N_NETWORK_CLASSES],
    /// `[places]`: shelter places, vacancies and placement requests.
    pub(crate) places: crate::places::PlacesPolicy,
    /// type name -> field name -> class. Nested so a look-up by two `&str` allocates nothing.
    pub(crate) classes: FastMap<String, FastMap<String, FieldClass>>,
    /// Every classification, in document order.
    pub(crate) field_list: Vec<(String, String, FieldClass)>,
}

/// The default protocol shipped with the hub (`policies/protocol.toml`, embedded at build time).
pub const DEFAULT_PROTOCOL: &str = include_str!("../protocol.toml");

impl Policy {
    /// Parses and validates a document. Errors name the line where possible.
    pub fn from_toml(source: &str) -> Result<Policy, PolicyError> {
        crate::validate::load(source)
    }
    /// The default protocol. It is validated by this crate's tests, so loading it cannot fail at run time
    /// unless the embedded file was changed badly (then this returns the error).
    pub fn default_protocol() -> Result<Policy, PolicyError> {
        Policy::from_toml(DEFAULT_PROTOCOL)
    }
    /// The document's version string (e.g. "2026-11-26.1").
    pub fn version(&self) -> &str {
        &self.version
    }
    /// The class of one field of one exposed type, `None` when the document does not classify it.
    pub fn class_of(&self, type_name: &str, field: &str) -> Option<FieldClass> {
        self.classes.get(type_name)?.get(field).copied()
    }
    /// Given every (type, field) of the live GraphQL schema, lists what the document lacks or
    /// names that the schema does not have. Empty means the document covers the schema exactly.
    ///
    /// Introspection types and fields (names starting with `__`) are not the hub's and are
    /// skipped. Missing classifications come first, in the order given; then the document's
    /// extra entries, in document order.
    pub fn check_schema_fields(&self, fields: &[(String, String)]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen: FastMap<(&str, &str), ()> = FastMap::default();
        for (type_name, field) in fields {
            if type_name.starts_with("__") || field.starts_with("__") {
                continue;
            }
            if seen.insert((type_name, field), ()).is_some() {
                continue;
            }
            if self.class_of(type_name, field).is_none() {
                problems.push(format!(
                    "{type_name}.{field} is not classified by the policy document"
                ));
            }
        }
        for (type_name, field, _) in &self.field_list {
            if !seen.contains_key(&(type_name.as_str(), field.as_str())) {
                problems.push(format!(
                    "policy classifies {type_name}.{field}, which the schema does not have"
                ));
            }
        }
        problems
    }
    /// Classes of a case a viewer may read, given its relationships (union over relationships).
    /// ANALYST and PLATFORM_ADMIN read nothing; an empty set (NONE) reads nothing.
    pub fn readable_classes(&self, viewer: &Viewer, rels: RelationshipSet) -> ClassSet {
        if !self.gets_rows(viewer) {
            return ClassSet::empty();
        }
        let mut set = ClassSet::empty();
        for rel in rels.iter() {
            set = set.union(self.read[rel as usize]);
        }
        set
    }
    /// Which notes a viewer may read.
    pub fn notes_scope(&self, viewer: &Viewer, rels: RelationshipSet) -> NotesScope {
        if !self.gets_rows(viewer) {
            return NotesScope::None;
        }
        // The union of scopes is the widest one.
        let mut scope = NotesScope::None;
        for rel in rels.iter() {
            scope = match (scope, self.notes[rel as usize]) {
                (NotesScope::All, _) | (_, NotesScope::All) => NotesScope::All,
                (NotesScope::OwnAndSharedWithJoint, _) | (_, NotesScope::OwnAndSharedWithJoint) => {
                    NotesScope::OwnAndSharedWithJoint
                }
                _ => NotesScope::None,
            };
        }
        scope
    }
    /// Whether a viewer with these relationships may perform an action on a case.
    pub fn may(&self, viewer: &Viewer, rels: RelationshipSet, action: CaseAction) -> bool {
        if !self.acts(viewer) {
            return false;
        }
        match action_name(action) {
            Some(name) => {
                if self.action_roles[name as usize] & bit(viewer.role) == 0 {
                    return false;
                }
                rels.iter()
                    .any(|rel| self.change_actions[rel as usize] & bit(name) != 0)
            }
            None => {
                let CaseAction::UpdateField(field) = action else {
                    return false;
                };
                // A name the document does not know as a case field is never changeable.
                let Some(f) = self.updatable.get(field) else {
                    return false;
                };
                rels.iter().any(|rel| {
                    self.change_classes[rel as usize].contains(f.class) || f.explicit.contains(rel)
                })
            }
        }
    }
    /// Whether a share (or transfer, for TRANSFER) for `purpose` may go to an agency of `kind`.
    pub fn purpose_allows_recipient(&self, purpose: SharePurpose, kind: AgencyKind) -> bool {
        self.purposes[purpose as usize].recipients & bit(kind) != 0
    }
    /// The relationship an active share for this purpose creates (JOINT_MANAGEMENT -> JOINT, ...).
    pub fn relationship_for(&self, purpose: SharePurpose) -> Relationship {
        self.purposes[purpose as usize].relationship
    }
    /// Whether an emergency share (no consent) is allowed for this purpose.
    pub fn emergency_allowed(&self, purpose: SharePurpose) -> bool {
        self.emergency_purposes & bit(purpose) != 0
    }
    /// The longest an emergency share may last, in hours (default 72).
    pub fn emergency_max_hours(&self) -> u32 {
        self.emergency_hours
    }
    /// Which agency kinds may create a referral.
    pub fn may_request_referral(&self, kind: AgencyKind) -> bool {
        self.referral_requesters & bit(kind) != 0
    }
    /// Referral field groups a viewer sees (section 6). ANALYST / PLATFORM_ADMIN: none.
    /// `requester_kind` is the kind of the viewer's agency (law enforcement requesters see less).
    pub fn referral_classes(
        &self,
        viewer: &Viewer,
        relation: ReferralRelation,
    ) -> ReferralClassSet {
        if !self.gets_rows(viewer) {
            return ReferralClassSet::empty();
        }
        let mut columns: Mask = 0;
        for col in self.referral_columns(viewer, relation) {
            columns |= bit(col);
        }
        let mut set = ReferralClassSet::empty();
        for col in ReferralViewer::ALL {
            if columns & bit(col) != 0 {
                set = set.union(self.referral_visibility[col as usize]);
            }
        }
        set
    }
    /// Whether the viewer may change the referral (target ente: schedule/interview/conclude).
    pub fn may_work_referral(&self, viewer: &Viewer, relation: ReferralRelation) -> bool {
        self.acts(viewer)
            && self
                .referral_columns(viewer, relation)
                .any(|col| self.referral_work & bit(col) != 0)
    }
    /// Whether the viewer may withdraw the referral (the requester, while not concluded: the caller checks status).
    pub fn may_withdraw_referral(&self, viewer: &Viewer, relation: ReferralRelation) -> bool {
        self.acts(viewer)
            && self
                .referral_columns(viewer, relation)
                .any(|col| self.referral_withdraw & bit(col) != 0)
    }
    /// Whether the viewer may correct a concluded referral (section 6: a coordinator of the
    /// target ente, with a reason).
    pub fn may_correct_referral(&self, viewer: &Viewer, relation: ReferralRelation) -> bool {
        self.acts(viewer)
            && self.referral_correct_roles & bit(viewer.role) != 0
            && self
                .referral_columns(viewer, relation)
                .any(|col| self.referral_correct & bit(col) != 0)
    }
    /// Statistics access (section 7). `requested` None means the default scope for the viewer.
    /// `viewer` None is an anonymous caller. Err(()) means FORBIDDEN.
    #[allow(clippy::result_unit_err)] // one refusal, whatever the reason: the api answers FORBIDDEN.
    pub fn statistics(
        &self,
        viewer: Option<&Viewer>,
        requested: Option<StatsScope>,
    ) -> Result<StatsGrant, ()> {
        let Some(viewer) = viewer else {
            // An anonymous caller has no agency, so no MINE; NETWORK is what the document says.
            return match requested.unwrap_or(StatsScope::Network) {
                StatsScope::Mine => Err(()),
                StatsScope::Network => grant(StatsScope::Network, self.stats_anonymous),
            };
        };
        if self.stats_roles & bit(viewer.role) == 0 {
            return Err(());
        }
        // Without an agency there is nothing to be "mine" and no row of the table applies.
        let Some(kind) = viewer.agency_kind else {
            return Err(());
        };
        let row = self.stats_kinds[kind as usize];
        let scope = requested.unwrap_or(row.default);
        let access = match scope {
            StatsScope::Mine => row.mine,
            StatsScope::Network => row.network,
        };
        grant(scope, access)
    }
    /// The suppression threshold k (default 3).
    pub fn suppression_k(&self) -> u64 {
        self.stats_k
    }
    /// What the document fixes about network releases (ACCESS.md §7).
    pub fn release_spec(&self) -> &crate::release::ReleaseSpec {
        &self.release
    }
    /// Whether a viewer may read a network field of this class. `viewer` None is anonymous;
    /// `is_owner` says whether the viewer's agency owns the object (a shelter). What only the
    /// owner reads is row-level data of that agency: it needs a role of `[roles] rows` too, so
    /// that neither an ANALYST nor a PLATFORM_ADMIN naming an agency reads a secret shelter
    /// address (ACCESS.md §1).
    pub fn may_read_network(
        &self,
        viewer: Option<&Viewer>,
        class: NetworkClass,
        is_owner: bool,
    ) -> bool {
        let readers = self.network[class as usize];
        match viewer {
            None => readers & bit(NetworkViewer::Anonymous) != 0,
            Some(v) => {
                // Any authenticated user is in the partner column; only an agency can own.
                readers & bit(NetworkViewer::Partner) != 0
                    || (is_owner
                        && v.agency_kind.is_some()
                        && self.role_gets_rows(v.role)
                        && readers & bit(NetworkViewer::Owner) != 0)
            }
        }
    }
    /// The rules of shelter places, vacancies and placement requests (`[places]`).
    pub fn places(&self) -> &crate::places::PlacesPolicy {
        &self.places
    }
    /// The who-sees-what matrix as Markdown, generated from this document.
    pub fn matrix_markdown(&self) -> String {
        crate::matrix::render(self)
    }

    /// Every (type, field, class) the document classifies, in document order (for start-up
    /// checks, tests and tooling).
    pub fn classified_fields(&self) -> impl Iterator<Item = (&str, &str, FieldClass)> + '_ {
        self.field_list
            .iter()
            .map(|(t, f, c)| (t.as_str(), f.as_str(), *c))
    }
    /// The document's optional human title.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// Whether an agency of this kind counts as law enforcement in this document.
    pub fn is_law_enforcement(&self, kind: AgencyKind) -> bool {
        self.law_enforcement & bit(kind) != 0
    }
    /// Whether the viewer's role gets case and referral rows at all (`[roles] rows`).
    pub fn role_gets_rows(&self, role: UserRole) -> bool {
        self.row_roles & bit(role) != 0
    }
    /// Whether the viewer's role may change cases and referrals at all (`[roles] act`).
    pub fn role_may_act(&self, role: UserRole) -> bool {
        self.act_roles & bit(role) != 0
    }
    /// Whether the viewer may manage agencies, networks, protocols, projects and collaborations
    /// (`[roles] administer`: the platform admin).
    pub fn may_administer(&self, viewer: &Viewer) -> bool {
        self.admin_roles & bit(viewer.role) != 0
    }
    /// What of an agency's registry entry the viewer may change (`updateAgency`): all of it for
    /// the platform's administrators (`[roles] administer`); the public fields (name, place,
    /// public contact, site, office location) of `its_own` agency for `[roles] describe`
    /// (coordinators, by default); nothing otherwise.
    pub fn agency_edit(&self, viewer: &Viewer, its_own: bool) -> AgencyEdit {
        if self.may_administer(viewer) {
            AgencyEdit::Everything
        } else if its_own && self.describe_roles & bit(viewer.role) != 0 {
            AgencyEdit::PublicFields
        } else {
            AgencyEdit::Nothing
        }
    }
    /// Whether the viewer may open a new case, which its agency then holds (`[cases] holders`).
    pub fn may_create_case(&self, viewer: &Viewer) -> bool {
        self.acts(viewer)
            && viewer
                .agency_kind
                .is_some_and(|k| self.case_holders & bit(k) != 0)
    }
    /// Whether the viewer may create a referral: an acting role of a requester kind.
    pub fn may_create_referral(&self, viewer: &Viewer) -> bool {
        self.acts(viewer)
            && viewer
                .agency_kind
                .is_some_and(|k| self.may_request_referral(k))
    }
    /// Whether an agency of this kind holds cases (`[cases] holders`).
    pub fn may_hold_cases(&self, kind: AgencyKind) -> bool {
        self.case_holders & bit(kind) != 0
    }
    /// Whether an agency of this kind may be the target of a referral (`[referrals] targets`).
    pub fn may_receive_referral(&self, kind: AgencyKind) -> bool {
        self.referral_targets & bit(kind) != 0
    }
    /// Whether this purpose is given through a share (`false`: only through a transfer request).
    pub fn purpose_uses_share(&self, purpose: SharePurpose) -> bool {
        self.purposes[purpose as usize].by_share
    }
    /// Whether the viewer may make an emergency share (no consent) for this purpose: an
    /// `[emergency] roles` user of the owner, for an `[emergency] purposes` purpose, and only
    /// where the viewer may share at all.
    pub fn may_emergency_share(
        &self,
        viewer: &Viewer,
        rels: RelationshipSet,
        purpose: SharePurpose,
    ) -> bool {
        self.emergency_allowed(purpose)
            && self.emergency_roles & bit(viewer.role) != 0
            && self.purpose_uses_share(purpose)
            && self.may(viewer, rels, CaseAction::Share)
    }

    /// The actions other than field updates that a viewer with these relationships may take on
    /// a case (`CaseAction::ACTIONS` filtered by [`Policy::may`]): what a client may offer.
    pub fn permitted_actions(
        &self,
        viewer: &Viewer,
        rels: RelationshipSet,
    ) -> impl Iterator<Item = CaseAction> + '_ {
        let viewer = *viewer;
        CaseAction::ACTIONS
            .into_iter()
            .filter(move |a| self.may(&viewer, rels, *a))
    }

    /// Of `fields` (case field names), those a viewer with these relationships may change: the
    /// same [`Policy::may`] question an update asks for each field it touches.
    pub fn writable_fields<'a>(
        &'a self,
        viewer: &Viewer,
        rels: RelationshipSet,
        fields: &'a [&'static str],
    ) -> impl Iterator<Item = &'static str> + 'a {
        let viewer = *viewer;
        fields
            .iter()
            .copied()
            .filter(move |f| self.may(&viewer, rels, CaseAction::UpdateField(f)))
    }

    // ----- private helpers -----

    /// Row-level data needs a row role and an agency (the platform admin has none).
    fn gets_rows(&self, viewer: &Viewer) -> bool {
        viewer.agency_kind.is_some() && self.row_roles & bit(viewer.role) != 0
    }

    /// Changing anything needs an acting role and an agency.
    fn acts(&self, viewer: &Viewer) -> bool {
        viewer.agency_kind.is_some() && self.act_roles & bit(viewer.role) != 0
    }

    /// The columns of section 6 that apply to this viewer and referral.
    fn referral_columns(
        &self,
        viewer: &Viewer,
        relation: ReferralRelation,
    ) -> impl Iterator<Item = ReferralViewer> {
        let law = viewer
            .agency_kind
            .is_some_and(|k| self.is_law_enforcement(k));
        let target = relation.is_target.then_some(ReferralViewer::Target);
        let requester = relation.is_requester.then_some(if law {
            ReferralViewer::LawEnforcementRequester
        } else {
            ReferralViewer::Requester
        });
        let other =
            (!relation.is_target && !relation.is_requester).then_some(ReferralViewer::Other);
        target.into_iter().chain(requester).chain(other)
    }
}

fn grant(scope: StatsScope, access: StatsAccess) -> Result<StatsGrant, ()> {
    match access {
        StatsAccess::Exact => Ok(StatsGrant { scope, exact: true }),
        StatsAccess::Release => Ok(StatsGrant {
            scope,
            exact: false,
        }),
        StatsAccess::Forbidden => Err(()),
    }
}

/// The document's name for an action; `None` for a field update (decided per field).
fn action_name(action: CaseAction) -> Option<ActionName> {
    Some(match action {
        CaseAction::UpdateField(_) => return None,
        CaseAction::ChangePhase => ActionName::ChangePhase,
        CaseAction::Close => ActionName::Close,
        CaseAction::AddNote => ActionName::AddNote,
        CaseAction::ManageConsents => ActionName::ManageConsents,
        CaseAction::Share => ActionName::Share,
        CaseAction::RequestTransfer => ActionName::RequestTransfer,
        CaseAction::DecideTransfer => ActionName::DecideTransfer,
        CaseAction::ReadAccessLog => ActionName::ReadAccessLog,
        CaseAction::ReviewEmergencyShares => ActionName::ReviewEmergencyShares,
    })
}

/// Applies ACCESS.md section 7's suppression to the cells of one answer grouped by `dims`
/// (1 or 2) dimensions with threshold `k`: primary (1..k-1 hidden) then secondary, until stable.
/// Never adds or removes cells; sets `suppressed` only.
pub fn suppress(cells: &mut [StatCell], dims: usize, k: u64) {
    crate::suppress::run(cells, dims, k)
}
