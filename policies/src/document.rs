//! The policy document as written: serde structs that mirror `protocol.toml` one to one.
//!
//! Nothing here decides anything. Unknown keys and unknown names are rejected by serde itself
//! (`deny_unknown_fields`, enum variants), so the parser's error carries the offending line.
//! Values that later checks may complain about are wrapped in [`Spanned`] so those complaints
//! can name the line too.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    AgencyKind, DataClass, FieldClass, NetworkClass, ReferralClass, Relationship, SharePurpose,
    UserRole,
};

/// A TOML table kept in the order it was written, so generated text follows the document.
/// TOML itself already rejects a key written twice in one table.
#[derive(Debug, Clone)]
pub(crate) struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = OrderedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    entries.push((k, v));
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// A field's class as written (`"BASE"`, `"REFERRAL_CORE"`, `"PUBLIC"`, `"OPEN"`...).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClassName(pub FieldClass);

impl<'de> Deserialize<'de> for ClassName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse::<FieldClass>().map(ClassName).map_err(|_| {
            de::Error::custom(format!(
                "unknown class `{name}`, expected one of {}",
                all_class_names()
            ))
        })
    }
}

fn all_class_names() -> String {
    let mut names: Vec<&str> = DataClass::ALL.iter().map(|c| c.as_str()).collect();
    names.extend(ReferralClass::ALL.iter().map(|c| c.as_str()));
    names.extend(NetworkClass::ALL.iter().map(|c| c.as_str()));
    names.push("OPEN");
    names.join(", ")
}

/// Actions on a case other than updating a field (ACCESS.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ActionName {
    ChangePhase,
    Close,
    AddNote,
    ManageConsents,
    Share,
    RequestTransfer,
    DecideTransfer,
    ReadAccessLog,
    ReviewEmergencyShares,
}

impl ActionName {
    pub const ALL: [ActionName; 9] = [
        ActionName::ChangePhase,
        ActionName::Close,
        ActionName::AddNote,
        ActionName::ManageConsents,
        ActionName::Share,
        ActionName::RequestTransfer,
        ActionName::DecideTransfer,
        ActionName::ReadAccessLog,
        ActionName::ReviewEmergencyShares,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionName::ChangePhase => "CHANGE_PHASE",
            ActionName::Close => "CLOSE",
            ActionName::AddNote => "ADD_NOTE",
            ActionName::ManageConsents => "MANAGE_CONSENTS",
            ActionName::Share => "SHARE",
            ActionName::RequestTransfer => "REQUEST_TRANSFER",
            ActionName::DecideTransfer => "DECIDE_TRANSFER",
            ActionName::ReadAccessLog => "READ_ACCESS_LOG",
            ActionName::ReviewEmergencyShares => "REVIEW_EMERGENCY_SHARES",
        }
    }
}

/// The `notes` key of a `[read.X]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum NotesName {
    All,
    OwnAndSharedWithJoint,
    None,
}

/// How a purpose reaches the recipient: a share, or a transfer request (MIR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Through {
    Share,
    TransferRequest,
}

/// The columns of ACCESS.md section 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ReferralViewer {
    Target,
    Requester,
    LawEnforcementRequester,
    Other,
}

impl ReferralViewer {
    pub const ALL: [ReferralViewer; 4] = [
        ReferralViewer::Target,
        ReferralViewer::Requester,
        ReferralViewer::LawEnforcementRequester,
        ReferralViewer::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralViewer::Target => "TARGET",
            ReferralViewer::Requester => "REQUESTER",
            ReferralViewer::LawEnforcementRequester => "LAW_ENFORCEMENT_REQUESTER",
            ReferralViewer::Other => "OTHER",
        }
    }
}

/// Changes to a referral (ACCESS.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ReferralChange {
    Work,
    Withdraw,
    /// Correcting a concluded referral, with a reason (optional: without it nobody corrects).
    Correct,
}

/// What a statistics scope gives (ACCESS.md section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum StatsAccess {
    Exact,
    /// Answered only from the frozen, differentially private releases.
    Release,
    Forbidden,
}

/// `MINE` or `NETWORK`, as written in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ScopeName {
    Mine,
    Network,
}

/// The columns of ACCESS.md section 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum NetworkViewer {
    Anonymous,
    Partner,
    Owner,
}

impl NetworkViewer {
    pub const ALL: [NetworkViewer; 3] = [
        NetworkViewer::Anonymous,
        NetworkViewer::Partner,
        NetworkViewer::Owner,
    ];
}

pub(crate) type List<T> = Spanned<Vec<T>>;

/// The whole document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document {
    pub version: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub agencies: AgenciesDoc,
    pub roles: RolesDoc,
    pub cases: CasesDoc,
    pub read: OrderedMap<Relationship, ReadDoc>,
    pub action_roles: OrderedMap<ActionName, List<UserRole>>,
    pub change: OrderedMap<Relationship, ChangeDoc>,
    pub purposes: OrderedMap<SharePurpose, PurposeDoc>,
    pub emergency: EmergencyDoc,
    pub referrals: ReferralsDoc,
    pub statistics: StatisticsDoc,
    pub network: OrderedMap<NetworkClass, List<NetworkViewer>>,
    /// `[places]`: shelter places, vacancies and placement requests (ACCESS.md §8).
    pub places: crate::places::PlacesDoc,
    pub fields: OrderedMap<Spanned<String>, OrderedMap<Spanned<String>, Spanned<ClassName>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgenciesDoc {
    pub kinds: List<AgencyKind>,
    pub law_enforcement: List<AgencyKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolesDoc {
    pub all: List<UserRole>,
    pub rows: List<UserRole>,
    pub act: List<UserRole>,
    pub administer: List<UserRole>,
    pub describe: List<UserRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CasesDoc {
    pub holders: List<AgencyKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadDoc {
    pub classes: List<DataClass>,
    pub notes: Spanned<NotesName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeDoc {
    #[serde(default)]
    pub actions: Option<List<ActionName>>,
    #[serde(default)]
    pub classes: Option<List<DataClass>>,
    #[serde(default)]
    pub fields: Option<List<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurposeDoc {
    pub relationship: Spanned<Relationship>,
    pub recipients: List<AgencyKind>,
    pub through: Spanned<Through>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmergencyDoc {
    pub max_hours: Spanned<u32>,
    pub purposes: List<SharePurpose>,
    pub roles: List<UserRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReferralsDoc {
    pub requesters: List<AgencyKind>,
    pub targets: List<AgencyKind>,
    pub visibility: OrderedMap<ReferralViewer, List<ReferralClass>>,
    pub changes: OrderedMap<ReferralChange, List<ReferralViewer>>,
    /// Roles that may correct a concluded referral (default: every acting role).
    #[serde(default)]
    pub correct_roles: Option<List<UserRole>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatisticsDoc {
    pub k: Spanned<i64>,
    pub roles: List<UserRole>,
    pub anonymous: Spanned<StatsAccess>,
    pub kinds: OrderedMap<AgencyKind, Spanned<KindStatsDoc>>,
    pub releases: ReleasesDoc,
}

/// `[statistics.releases]`: the shape and privacy parameters of network releases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleasesDoc {
    pub grace_days: Spanned<i64>,
    pub epsilon_per_table: Spanned<f64>,
    pub epsilon_per_year: Spanned<f64>,
    pub periods: List<Spanned<String>>,
    pub exploitations_per_case: Spanned<i64>,
    pub nationalities: List<Spanned<String>>,
    pub provinces: List<Spanned<String>>,
    pub case_tables: List<Spanned<Vec<String>>>,
    pub referral_tables: List<Spanned<Vec<String>>>,
    pub placement_tables: List<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KindStatsDoc {
    pub mine: StatsAccess,
    pub network: StatsAccess,
    pub default: ScopeName,
}
