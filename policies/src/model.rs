//! The protocol's vocabulary and the evaluator's public interface.
//!
//! The names mirror `ACCESS.md` and the GraphQL contract. Enum values are spelled in the
//! document and on the wire exactly as in the contract (`ENTE_ANTITRATTA`, `JOINT`, ...).

use serde::{Deserialize, Serialize};

/// Kind of a partner agency (`AgencyKind` in the contract). Looked up in the hub's database,
/// never taken from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgencyKind {
    /// An anti-trafficking ente (`ENTE_ANTITRATTA`): holds cases and receives referrals.
    EnteAntitratta,
    /// A centro antiviolenza (`CENTRO_ANTIVIOLENZA`).
    CentroAntiviolenza,
    /// A prefettura (`PREFETTURA`).
    Prefettura,
    /// A questura (`QUESTURA`): residence permits.
    Questura,
    /// A commissione territoriale for international protection (`COMMISSIONE_TERRITORIALE`).
    CommissioneTerritoriale,
    /// Law enforcement (`FORZE_ORDINE`).
    ForzeOrdine,
    /// A public prosecutor's office (`PROCURA`).
    Procura,
    /// Social and health services (`SERVIZI_TERRITORIALI`).
    ServiziTerritoriali,
    /// The national anti-trafficking helpline (`NUMERO_VERDE`).
    NumeroVerde,
    /// A network's coordination (`COORDINAMENTO`).
    Coordinamento,
}

/// A user's role inside its agency (`UserRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserRole {
    /// Works the agency's cases day to day (`OPERATOR`).
    Operator,
    /// Leads the agency's work: consents, shares, transfers (`COORDINATOR`).
    Coordinator,
    /// Reads statistics (`ANALYST`).
    Analyst,
    /// Runs the hub's registry; belongs to no partner agency (`PLATFORM_ADMIN`).
    PlatformAdmin,
}

/// Class of a case field (`DataClass`, ACCESS.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataClass {
    /// Code, phase, owner, dates: what makes a case exist for a viewer (`BASE`).
    Base,
    /// Gender, age group, nationality, exploitation (`PROFILE`).
    Profile,
    /// Alias, legal name, birth date, phone (`IDENTITY`).
    Identity,
    /// The shelter and its address (`LOCATION`).
    Location,
    /// Permits and their dates (`LEGAL`).
    Legal,
    /// Complaints and proceedings (`JUDICIAL`).
    Judicial,
    /// Health notes (`HEALTH`).
    Health,
    /// Gender-based violence assessment (`GBV`).
    Gbv,
    /// Phase history and activities of the pathway (`PATHWAY`).
    Pathway,
    /// The case diary (`NOTES`).
    Notes,
}

/// How a viewer's agency relates to a case (ACCESS.md section 3). `NONE` is the empty set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Relationship {
    /// The agency holds the case (`OWNER`).
    Owner,
    /// A consent-backed share for joint management (`JOINT`).
    Joint,
    /// A consent-backed share for the residence-permit procedure (`PERMIT`).
    Permit,
    /// The receiver of a pending transfer (`TRANSFER`).
    Transfer,
    /// A consent-backed share for a service referral (`SERVICE`).
    Service,
    /// A consent-backed share for judicial cooperation (`JUDICIAL`).
    Judicial,
}

/// Purpose of a consent, share or transfer (`SharePurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SharePurpose {
    /// Managing the case together (`JOINT_MANAGEMENT`).
    JointManagement,
    /// The residence-permit procedure (`PERMIT_PROCEDURE`).
    PermitProcedure,
    /// Handing the case over to another ente (`TRANSFER`).
    Transfer,
    /// Sending the person to a service (`SERVICE_REFERRAL`).
    ServiceReferral,
    /// Cooperation with judicial authorities (`JUDICIAL_COOPERATION`).
    JudicialCooperation,
}

/// Groups of referral fields (ACCESS.md section 6), in the order of the section's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferralClass {
    /// `id`, `requestedBy`, `target`, `receivedOn`, `province`, `status`, `concludedOn`
    ReferralCore,
    /// `subjectRef`, `subjectGender`, `subjectNationality`
    ReferralSubject,
    /// `interviewsHeld`, `outcome`, `programmeAdhesion`, `outcomeNote`
    ReferralOutcome,
    /// `interviewNotes`, `case`
    ReferralInternal,
}

/// Levels of network data (ACCESS.md section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NetworkClass {
    /// Anyone, anonymous included: an agency's public fields.
    Public,
    /// Any authenticated partner: operational fields, networks, protocols, collaborations.
    Partner,
    /// Only the owning agency: shelters (protected addresses).
    OwnerOnly,
}

/// The class the document gives one field of one exposed GraphQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldClass {
    /// A case field, of this class.
    Case(DataClass),
    /// A referral field, of this class.
    Referral(ReferralClass),
    /// A field of network data, at this level.
    Network(NetworkClass),
    /// Plumbing types with no protected content (page info, statistics cells, the viewer itself).
    Open,
}

/// What a viewer is, as far as the protocol cares. `agency_kind` is `None` for a platform
/// admin (who belongs to no partner agency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Viewer {
    /// The user's role in its agency.
    pub role: UserRole,
    /// The kind of the user's agency (from the hub's database).
    pub agency_kind: Option<AgencyKind>,
}

/// A small set of [`DataClass`] values (a bit set; copy, cheap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClassSet(u16);

/// A small set of [`Relationship`] values. Empty means `NONE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RelationshipSet(u8);

/// A small set of [`ReferralClass`] values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReferralClassSet(u8);

/// How a viewer relates to a referral (ACCESS.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReferralRelation {
    /// The viewer's agency is the referral's target ente.
    pub is_target: bool,
    /// The viewer's agency made the referral.
    pub is_requester: bool,
}

/// Which case notes a viewer may read (ACCESS.md section 4, `NOTES` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotesScope {
    /// Every note of the case.
    All,
    /// Notes the viewer's own agency wrote, and notes the owner marked shared with joint partners.
    OwnAndSharedWithJoint,
    /// No notes.
    None,
}

/// A change a viewer may try on a case (ACCESS.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseAction {
    /// Change a field; the argument is the field's contract name (`permitCurrent`, `gbvRiskLevel`...).
    UpdateField(&'static str),
    /// Move the case to another phase, or reopen it.
    ChangePhase,
    /// Close the case with an outcome.
    Close,
    /// Write in the case diary.
    AddNote,
    /// Record and revoke the person's consents.
    ManageConsents,
    /// Share the case, or revoke a share.
    Share,
    /// Ask another ente to take the case over, or cancel the request.
    RequestTransfer,
    /// Accept or reject a transfer to the viewer's agency.
    DecideTransfer,
    /// Read who accessed the case.
    ReadAccessLog,
    /// Review the agency's emergency shares.
    ReviewEmergencyShares,
}

/// A statistics scope (`StatisticsScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsScope {
    /// The rows the viewer's agency answers for (`MINE`).
    Mine,
    /// The whole network, from releases (`NETWORK`).
    Network,
}

/// What a viewer gets for a statistics request (ACCESS.md section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatsGrant {
    /// The scope granted.
    pub scope: StatsScope,
    /// `true`: exact counts over the rows the viewer answers for. `false`: answered only from
    /// the frozen, differentially private releases (ACCESS.md §7).
    pub exact: bool,
}

/// One cell of a statistics answer, before and after suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatCell {
    /// The cell's keys, one per grouping dimension.
    pub keys: Vec<String>,
    /// The true count (always >= 1 for returned cells).
    pub count: u64,
    /// Set by [`suppress`].
    pub suppressed: bool,
}

// ---------------------------------------------------------------------------------------------
// Names, iteration and small sets: vocabulary helpers for the evaluator and the api; decisions
// stay in `policy.rs`.
// ---------------------------------------------------------------------------------------------

/// A name that is not one of an enum's contract spellings (returned by the `FromStr` impls).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownName(pub String);

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown name `{}`", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// Gives an enum `ALL`, `as_str`, `FromStr` and `Display`, spelled as in the contract.
/// One table per enum keeps the spelling next to the variant, so they cannot drift apart.
macro_rules! named_enum {
    ($ty:ident, $n:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [Self; $n] = [$(Self::$variant),+];

            /// The contract spelling (e.g. `ENTE_ANTITRATTA`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownName;

            /// Parses the contract spelling; anything else is an [`UnknownName`].
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnknownName(s.to_string())),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(AgencyKind, 10, {
    EnteAntitratta => "ENTE_ANTITRATTA",
    CentroAntiviolenza => "CENTRO_ANTIVIOLENZA",
    Prefettura => "PREFETTURA",
    Questura => "QUESTURA",
    CommissioneTerritoriale => "COMMISSIONE_TERRITORIALE",
    ForzeOrdine => "FORZE_ORDINE",
    Procura => "PROCURA",
    ServiziTerritoriali => "SERVIZI_TERRITORIALI",
    NumeroVerde => "NUMERO_VERDE",
    Coordinamento => "COORDINAMENTO",
});

named_enum!(UserRole, 4, {
    Operator => "OPERATOR",
    Coordinator => "COORDINATOR",
    Analyst => "ANALYST",
    PlatformAdmin => "PLATFORM_ADMIN",
});

named_enum!(DataClass, 10, {
    Base => "BASE",
    Profile => "PROFILE",
    Identity => "IDENTITY",
    Location => "LOCATION",
    Legal => "LEGAL",
    Judicial => "JUDICIAL",
    Health => "HEALTH",
    Gbv => "GBV",
    Pathway => "PATHWAY",
    Notes => "NOTES",
});

named_enum!(Relationship, 6, {
    Owner => "OWNER",
    Joint => "JOINT",
    Permit => "PERMIT",
    Transfer => "TRANSFER",
    Service => "SERVICE",
    Judicial => "JUDICIAL",
});

named_enum!(SharePurpose, 5, {
    JointManagement => "JOINT_MANAGEMENT",
    PermitProcedure => "PERMIT_PROCEDURE",
    Transfer => "TRANSFER",
    ServiceReferral => "SERVICE_REFERRAL",
    JudicialCooperation => "JUDICIAL_COOPERATION",
});

named_enum!(ReferralClass, 4, {
    ReferralCore => "REFERRAL_CORE",
    ReferralSubject => "REFERRAL_SUBJECT",
    ReferralOutcome => "REFERRAL_OUTCOME",
    ReferralInternal => "REFERRAL_INTERNAL",
});

named_enum!(NetworkClass, 3, {
    Public => "PUBLIC",
    Partner => "PARTNER",
    OwnerOnly => "OWNER_ONLY",
});

impl AgencyKind {
    /// `FORZE_ORDINE` and `PROCURA`, called "law enforcement" in ACCESS.md. The evaluator uses
    /// the document's own `[agencies] law_enforcement` list; this is the protocol's default.
    pub fn is_law_enforcement(self) -> bool {
        matches!(self, AgencyKind::ForzeOrdine | AgencyKind::Procura)
    }
}

impl FieldClass {
    /// The name the policy document uses for this class (`BASE`, `REFERRAL_CORE`, `PUBLIC`, `OPEN`...).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldClass::Case(c) => c.as_str(),
            FieldClass::Referral(c) => c.as_str(),
            FieldClass::Network(c) => c.as_str(),
            FieldClass::Open => "OPEN",
        }
    }
}

impl std::str::FromStr for FieldClass {
    type Err = UnknownName;

    /// Parses any class name of the document. The three vocabularies share no spelling, so
    /// a name is never ambiguous.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "OPEN" {
            return Ok(FieldClass::Open);
        }
        if let Ok(c) = s.parse::<DataClass>() {
            return Ok(FieldClass::Case(c));
        }
        if let Ok(c) = s.parse::<ReferralClass>() {
            return Ok(FieldClass::Referral(c));
        }
        if let Ok(c) = s.parse::<NetworkClass>() {
            return Ok(FieldClass::Network(c));
        }
        Err(UnknownName(s.to_string()))
    }
}

impl std::fmt::Display for FieldClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CaseAction {
    /// Every action that is not a field update, in declaration order.
    pub const ACTIONS: [CaseAction; 9] = [
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

    /// The action's name in the policy document (`UPDATE_FIELD` for any field update).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::UpdateField(_) => "UPDATE_FIELD",
            CaseAction::ChangePhase => "CHANGE_PHASE",
            CaseAction::Close => "CLOSE",
            CaseAction::AddNote => "ADD_NOTE",
            CaseAction::ManageConsents => "MANAGE_CONSENTS",
            CaseAction::Share => "SHARE",
            CaseAction::RequestTransfer => "REQUEST_TRANSFER",
            CaseAction::DecideTransfer => "DECIDE_TRANSFER",
            CaseAction::ReadAccessLog => "READ_ACCESS_LOG",
            CaseAction::ReviewEmergencyShares => "REVIEW_EMERGENCY_SHARES",
        }
    }
}

/// Bit-set operations for the small sets. Bit `i` is the enum value with discriminant `i`, so
/// membership is one shift and one mask: these sit on the hot path of every field decision.
macro_rules! bit_set {
    ($set:ident, $item:ident, $bits:ty) => {
        impl $set {
            /// The empty set.
            pub const fn empty() -> Self {
                $set(0)
            }

            /// Every value of the enum.
            pub fn all() -> Self {
                $item::ALL.into_iter().collect()
            }

            /// Adds `x`.
            pub fn insert(&mut self, x: $item) {
                self.0 |= 1 << (x as u32);
            }

            /// This set with `x` added.
            pub const fn with(self, x: $item) -> Self {
                $set(self.0 | (1 << (x as u32)))
            }

            /// Whether `x` is in the set.
            pub const fn contains(self, x: $item) -> bool {
                self.0 & (1 << (x as u32)) != 0
            }

            /// Values in either set.
            pub const fn union(self, other: Self) -> Self {
                $set(self.0 | other.0)
            }

            /// Whether the set has no value.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The values, in enum declaration order.
            pub fn iter(self) -> impl Iterator<Item = $item> {
                $item::ALL.into_iter().filter(move |x| self.contains(*x))
            }

            /// Values in both sets.
            pub const fn intersection(self, other: Self) -> Self {
                $set(self.0 & other.0)
            }

            /// Whether every value of `self` is in `other`.
            pub const fn is_subset(self, other: Self) -> bool {
                self.0 & !other.0 == 0
            }
        }

        impl FromIterator<$item> for $set {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                let mut set = $set::empty();
                for x in iter {
                    set.insert(x);
                }
                set
            }
        }

        // The bit width must hold every value; checked at compile time.
        const _: () = assert!($item::ALL.len() <= <$bits>::BITS as usize);
    };
}

bit_set!(ClassSet, DataClass, u16);
bit_set!(RelationshipSet, Relationship, u8);
bit_set!(ReferralClassSet, ReferralClass, u8);
