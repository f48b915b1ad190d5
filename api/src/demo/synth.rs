//! Demo data for Raccordo: the real network of the source documents, with synthetic cases and referrals.
//!
//! Two data files, both under `api/demo/`:
//!
//! - `network.toml`: agencies, networks (reti), protocols, collaborations, projects and synthetic
//!   shelters, transcribed from the source documents (see its header).
//! - `cases.toml`: the tables of the "Mettiamo le Ali" nine-month report (people in assistance by
//!   gender, nationality, exploitation, permits, emersion channel, phase, outcome; referrals by
//!   province), mapped to the contract's enum spellings.
//!
//! This module is pure and deterministic: it only parses the two texts and builds plain structs. It
//! generates one synthetic person per case of the report so that every marginal of the generated
//! cases equals the report's table exactly, and one synthetic referral per request so that the
//! referral table by province is reproduced (see [`referrals`] for the carried-over requests the
//! report's own figures imply). No randomness crate: a fixed-seed xorshift only jitters dates, every
//! count comes from a combinatorial assignment. No real person: people are "Persona 001" and the
//! like, with no name, birth date or phone.
//!
//! Entry points: [`network`], [`cases`], [`referrals`], [`expected`]; [`case_marginals`] and
//! [`referral_rows`] compute from generated (or live) rows the same figures [`expected`] gives, so a
//! test can compare the hub's statistics with the report.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use serde::Deserialize;

// -------------------------------------------------------------------------------------------------
// Contract enum spellings (shared/contract/schema.graphql). Every value written into a struct below
// is one of these `&'static str`, so a typo in a data file is a load error, not a bad row.
// -------------------------------------------------------------------------------------------------

/// `AgencyKind` values.
pub const AGENCY_KINDS: &[&str] = &[
    "ENTE_ANTITRATTA",
    "CENTRO_ANTIVIOLENZA",
    "PREFETTURA",
    "QUESTURA",
    "COMMISSIONE_TERRITORIALE",
    "FORZE_ORDINE",
    "PROCURA",
    "SERVIZI_TERRITORIALI",
    "NUMERO_VERDE",
    "COORDINAMENTO",
];
/// `Gender` values.
pub const GENDERS: &[&str] = &["FEMALE", "MALE", "TRANSGENDER"];
/// `AgeGroup` values.
pub const AGE_GROUPS: &[&str] = &["ADULT", "MINOR"];
/// `CasePhase` values.
pub const CASE_PHASES: &[&str] = &[
    "PRONTO_INTERVENTO",
    "PRIMA_ACCOGLIENZA",
    "SECONDA_ACCOGLIENZA",
    "PRESA_IN_CARICO_TERRITORIALE",
    "CLOSED",
];
/// `Exploitation` values.
pub const EXPLOITATIONS: &[&str] = &[
    "SEXUAL_STREET",
    "SEXUAL_INDOOR",
    "LABOUR",
    "BEGGING",
    "ILLEGAL_ECONOMIES",
    "FORCED_MARRIAGE",
    "DOMESTIC_SERVITUDE",
    "TRAFFICKING",
];
/// `EmersionChannel` values.
pub const EMERSION_CHANNELS: &[&str] = &[
    "ASSESSMENT_SERVICE",
    "SELF_REFERRAL",
    "ACQUAINTANCE",
    "NUMERO_VERDE",
    "IOM",
    "OTHER_ANTI_TRAFFICKING_BODY",
    "OUTREACH_UNIT",
    "LAW_ENFORCEMENT",
    "CARITAS",
    "COMMISSIONE_TERRITORIALE",
    "THIRD_SECTOR",
    "LEGAL_ADVISOR",
    "PUBLIC_BODY",
    "OUTREACH_OTHER_AREA",
];
/// `PermitType` values.
pub const PERMIT_TYPES: &[&str] = &[
    "NONE",
    "INTERNATIONAL_PROTECTION_REQUEST",
    "APPEAL_ART35",
    "ART18",
    "REFUGEE_STATUS",
    "SPECIAL_PROTECTION",
    "SUBORDINATE_WORK",
    "LONG_TERM_RESIDENCE",
    "SPECIAL_CASES",
    "EMERSIONE_2020",
    "REITERATED_PROTECTION_REQUEST",
];
/// `CaseOutcome` values.
pub const CASE_OUTCOMES: &[&str] = &[
    "AUTONOMY",
    "NON_ADHERENCE",
    "SENT_TO_SAI",
    "TAKEN_OVER_BY_LOCAL_SERVICES",
    "SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT",
    "ASSISTED_VOLUNTARY_RETURN",
];
/// `ReferralStatus` values.
pub const REFERRAL_STATUSES: &[&str] = &[
    "RECEIVED",
    "SCHEDULED",
    "IN_PROGRESS",
    "CONCLUDED",
    "UNREACHABLE",
    "WITHDRAWN",
];
/// `ReferralOutcome` values.
pub const REFERRAL_OUTCOMES: &[&str] = &[
    "IDENTIFIED_TRAFFICKING",
    "IDENTIFIED_SEXUAL_EXPLOITATION",
    "IDENTIFIED_LABOUR_EXPLOITATION",
    "NOT_IDENTIFIED",
];

/// Agency kinds that may request a referral (ACCESS.md §6).
const REQUESTER_KINDS: &[&str] = &[
    "COMMISSIONE_TERRITORIALE",
    "PREFETTURA",
    "QUESTURA",
    "SERVIZI_TERRITORIALI",
    "FORZE_ORDINE",
    "PROCURA",
    "NUMERO_VERDE",
    "CENTRO_ANTIVIOLENZA",
    "ENTE_ANTITRATTA",
];

/// Phases in which a person lives in one of the ente's protected structures.
const RESIDENTIAL_PHASES: &[&str] = &[
    "PRONTO_INTERVENTO",
    "PRIMA_ACCOGLIENZA",
    "SECONDA_ACCOGLIENZA",
];

/// Order in which (phase at the end of the period, outcome) slots are handed to cases, oldest case
/// first. Why: pathways that ended in autonomy or a hand-over took long, so they go to the oldest
/// cases; territorial and second reception come next; drop-outs happen mid-way; the newest cases are
/// in first reception or emergency. Only plausibility: the counts come from the report.
const MATURITY: &[(&str, Option<&str>)] = &[
    ("CLOSED", Some("AUTONOMY")),
    ("CLOSED", Some("SENT_TO_SAI")),
    ("CLOSED", Some("TAKEN_OVER_BY_LOCAL_SERVICES")),
    ("CLOSED", Some("SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT")),
    ("CLOSED", Some("ASSISTED_VOLUNTARY_RETURN")),
    ("PRESA_IN_CARICO_TERRITORIALE", None),
    ("SECONDA_ACCOGLIENZA", None),
    ("CLOSED", Some("NON_ADHERENCE")),
    ("PRIMA_ACCOGLIENZA", None),
    ("PRONTO_INTERVENTO", None),
];

/// Permit types from the most to the least settled. Start and current permits are both handed out in
/// this order to cases sorted oldest first, which pairs them monotonically (a long-term permit stays
/// long-term, an appeal becomes refugee status, no permit becomes a protection request...).
const PERMIT_ADVANCEMENT: &[&str] = &[
    "LONG_TERM_RESIDENCE",
    "SUBORDINATE_WORK",
    "REFUGEE_STATUS",
    "SPECIAL_PROTECTION",
    "ART18",
    "SPECIAL_CASES",
    "APPEAL_ART35",
    "REITERATED_PROTECTION_REQUEST",
    "INTERNATIONAL_PROTECTION_REQUEST",
    "EMERSIONE_2020",
    "NONE",
];

/// Seed of the date jitter. Fixed: the same files always give the same data.
const SEED: u64 = 0x5241_4343_4f52_444f; // "RACCORDO"

// -------------------------------------------------------------------------------------------------
// Public output types
// -------------------------------------------------------------------------------------------------

/// The whole demo network, as read from `network.toml` and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoNetwork {
    /// Every agency; ids are unique readable slugs ("micaela-bg").
    pub agencies: Vec<DemoAgency>,
    /// Networks (reti antiviolenza, tables, ATS), the contract's `Network`.
    pub networks: Vec<DemoNetworkGroup>,
    /// Signed protocols (the Turin multi-agency protocol).
    pub protocols: Vec<DemoProtocol>,
    /// Who works with whom, the contract's `Collaboration`.
    pub collaborations: Vec<DemoCollaboration>,
    /// Funded projects with their expected-results indicators.
    pub projects: Vec<DemoProject>,
    /// Synthetic protected shelters (fake names and addresses).
    pub shelters: Vec<DemoShelter>,
}

impl DemoNetwork {
    /// The agency with this id, if any.
    pub fn agency(&self, id: &str) -> Option<&DemoAgency> {
        self.agencies.iter().find(|a| a.id == id)
    }

    /// The project with this id, if any.
    pub fn project(&self, id: &str) -> Option<&DemoProject> {
        self.projects.iter().find(|p| p.id == id)
    }
}

/// An agency of the network (the contract's `Agency`).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoAgency {
    /// Stable readable slug, lowercase: "prefettura-bs", "ct-brescia".
    pub id: String,
    /// Official name as the documents give it.
    pub name: String,
    /// `AgencyKind`.
    pub kind: &'static str,
    /// Two-letter province sigla; `None` for national bodies or where the documents do not say.
    pub province: Option<String>,
    /// City of the body, where the documents give it.
    pub city: Option<String>,
    /// A generic public mailbox, only where the documents give one.
    pub public_contact: Option<String>,
    /// The body's site, only where the documents name it.
    pub website: Option<String>,
    /// Latitude of the city centre, public offices only.
    pub latitude: Option<f64>,
    /// Longitude of the city centre, public offices only.
    pub longitude: Option<f64>,
    /// Operational contact for partners (never set in the demo).
    pub referral_contact: Option<String>,
}

/// A network of agencies (rete antiviolenza, table, ATS): the contract's `Network`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoNetworkGroup {
    /// Slug.
    pub id: String,
    /// Name as the documents give it.
    pub name: String,
    /// Province sigla, if the network is provincial.
    pub province: Option<String>,
    /// Lead agency (the capofila Comune), where documented.
    pub lead: Option<String>,
    /// Member agency ids (may be empty when the documents name none of them).
    pub members: Vec<String>,
    /// Number of municipalities covered, where the documents give it.
    pub municipalities: Option<u32>,
}

/// A signed protocol: the contract's `Protocol`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoProtocol {
    /// Slug.
    pub id: String,
    /// Title.
    pub title: String,
    /// Signature date.
    pub signed_on: Option<NaiveDate>,
    /// Signatory agency ids.
    pub signatories: Vec<String>,
    /// Version of the hub's policy document it maps to (none in the demo).
    pub policy_version: Option<String>,
}

/// A collaboration between two agencies: the contract's `Collaboration`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCollaboration {
    /// Slug, "from--to".
    pub id: String,
    /// Kind from the vocabulary in `network.toml`'s header ("TRAMA", "REFERRAL_SERVICE", ...).
    pub kind: String,
    /// The acting agency (the sender, for REFERRAL_SERVICE).
    pub from: String,
    /// The other agency.
    pub to: String,
    /// Start date, where the documents date it.
    pub since: Option<NaiveDate>,
}

/// A funded project: the contract's `Project`, plus its expected results.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoProject {
    /// Slug ("mettiamo-le-ali").
    pub id: String,
    /// Name.
    pub name: String,
    /// Call / fund ("Bando 5/2022 ...").
    pub call: Option<String>,
    /// Area ("Lombardia 2").
    pub area: Option<String>,
    /// Coordinating agency id.
    pub coordinator: String,
    /// Implementing agencies (enti attuatori) ids.
    pub enti: Vec<String>,
    /// Start date.
    pub starts_on: Option<NaiveDate>,
    /// End date, where the documents give it.
    pub ends_on: Option<NaiveDate>,
    /// "Risultati attesi" indicators.
    pub indicators: Vec<DemoIndicator>,
}

/// One "risultato atteso" of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoIndicator {
    /// Stable key.
    pub key: String,
    /// Italian label as in the report.
    pub label: String,
    /// Report area (EMERSIONE, ASSISTENZA, FORMAZIONE_SENSIBILIZZAZIONE).
    pub area: Option<String>,
    /// Expected value.
    pub expected: u32,
    /// Achieved value at the report date, when the report gives one.
    pub achieved: Option<u32>,
}

/// A synthetic protected shelter (contract `Shelter`); its owner is the agency that runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoShelter {
    /// Slug.
    pub id: String,
    /// Owning agency id (an ente or a CAV).
    pub owner: String,
    /// Fake name, always ending in "(demo)".
    pub name: String,
    /// Fake address, always containing "(demo)".
    pub address: String,
    /// City.
    pub city: String,
    /// The reception phase the demo places people of this shelter in, if any.
    pub phase: Option<&'static str>,
}

/// One synthetic person in assistance (the contract's `Case`). Identity fields the contract has
/// (`legalName`, `birthDate`, `phone`) are deliberately absent: the demo has no real person.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCase {
    /// Pseudonymous code, "MLA-001", numbered oldest first.
    pub code: String,
    /// Project id.
    pub project: String,
    /// Owning ente id.
    pub owner: String,
    /// Owner's province.
    pub province: String,
    /// True for the cases opened in the period ("nuove prese in carico").
    pub new_in_period: bool,
    /// `CasePhase` at the end of the period.
    pub phase: &'static str,
    /// Opening date (before the period for continuing cases).
    pub opened_on: NaiveDate,
    /// Closing date, for CLOSED cases (within the period).
    pub closed_on: Option<NaiveDate>,
    /// `Gender`.
    pub gender: &'static str,
    /// `AgeGroup`.
    pub age_group: &'static str,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    /// `Exploitation` values (one, or two for the people the report counts twice).
    pub exploitation: Vec<&'static str>,
    /// `EmersionChannel`.
    pub emersion_channel: &'static str,
    /// Province where the person emerged.
    pub emersion_province: String,
    /// Children in the pathway with the person.
    pub accompanying_minors: u32,
    /// Pregnant during the period.
    pub pregnant: bool,
    /// Synthetic alias, "Persona 001".
    pub alias: String,
    /// Shelter id, for people in residential phases with an owner that runs shelters.
    pub shelter: Option<String>,
    /// `PermitType` at the start of the programme.
    pub permit_at_start: &'static str,
    /// `PermitType` at the end of the period.
    pub permit_current: &'static str,
    /// A complaint against the exploiters was filed.
    pub complaint_filed: bool,
    /// When the complaint was filed.
    pub complaint_filed_on: Option<NaiveDate>,
    /// `CaseOutcome`, for CLOSED cases.
    pub outcome: Option<&'static str>,
    /// Outcome date (the closing date).
    pub outcome_on: Option<NaiveDate>,
}

/// One synthetic referral (richiesta di valutazione): the contract's `Referral`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoReferral {
    /// Code, "REF-BG-001", numbered by receipt date within the province.
    pub code: String,
    /// Project id.
    pub project: String,
    /// Requesting agency id. For senders the hub has no agency for (lawyers, courts, an unnamed
    /// body) the target ente records the request itself: then `requested_by == target`.
    pub requested_by: String,
    /// The report's sender category ("CT_COMPETENTE", "CAS", "CONSULENTE_LEGALE", ...).
    pub source: String,
    /// Target ente id (an ENTE_ANTITRATTA of `province`).
    pub target: String,
    /// Receipt date.
    pub received_on: NaiveDate,
    /// Province sigla.
    pub province: String,
    /// `ReferralStatus` at the end of the period.
    pub status: &'static str,
    /// Conclusion date, for CONCLUDED referrals.
    pub concluded_on: Option<NaiveDate>,
    /// The requester's own (synthetic) dossier reference.
    pub subject_ref: String,
    /// `Gender` of the person referred.
    pub subject_gender: &'static str,
    /// ISO 3166-1 alpha-2 of the person referred.
    pub subject_nationality: String,
    /// Date of the first interview, if any.
    pub first_interview_on: Option<NaiveDate>,
    /// Interviews held before the period (carried-over referrals only).
    pub interviews_before_period: u32,
    /// Interviews held within the period (the report's "colloqui svolti").
    pub interviews: u32,
    /// `ReferralOutcome`, for CONCLUDED referrals.
    pub outcome: Option<&'static str>,
    /// Whether the person joined the programme, for CONCLUDED referrals.
    pub programme_adhesion: Option<bool>,
    /// Received before the period (Bando 4/21) but interviewed or concluded in it.
    pub carried_over: bool,
}

impl DemoReferral {
    /// The contract's `interviewsHeld`: all interviews, before and within the period.
    pub fn interviews_held(&self) -> u32 {
        self.interviews_before_period + self.interviews
    }
}

/// The report's figures per province for referrals (the summary table's columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpectedReferralRow {
    /// "Persone segnalate": referrals received within the period.
    pub reported: u32,
    /// "Nuove persone incontrate": referrals whose first interview falls within the period.
    pub met: u32,
    /// "Colloqui svolti": interviews held within the period.
    pub interviews: u32,
    /// "Persone identificate": concluded within the period with an IDENTIFIED_* outcome.
    pub identified: u32,
    /// "Adesioni al programma": `programme_adhesion == Some(true)`.
    pub adhesions: u32,
    /// "Coda al 30/06/2023": received within the period, still RECEIVED or SCHEDULED.
    pub queue: u32,
}

/// The report's tables, for comparison with generated rows or with the hub's live statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedTables {
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period (the report date).
    pub period_end: NaiveDate,
    /// People in assistance in the period.
    pub total_cases: u32,
    /// Of which opened in the period.
    pub new_in_period: u32,
    /// Of which continuing from earlier calls.
    pub continuing: u32,
    /// Case dimension -> value -> count. Dimensions are named as the contract's `CaseDimension`
    /// where one exists (GENDER, NATIONALITY, EXPLOITATION, PERMIT_AT_START, PERMIT_CURRENT,
    /// EMERSION_CHANNEL, PHASE, OUTCOME), plus AGE_GROUP and EMERSION_AREA (PROJECT / OTHER
    /// provinces). EXPLOITATION counts a person once per type, so it sums to more than the cases.
    pub cases: BTreeMap<String, BTreeMap<String, u32>>,
    /// Scalar figures: PREGNANT, ACCOMPANYING_MINORS, COMPLAINTS_FILED.
    pub case_figures: BTreeMap<String, u32>,
    /// The referral summary table, by province.
    pub referral_rows: BTreeMap<String, ExpectedReferralRow>,
    /// Referral dimension -> value -> count: PROVINCE (referrals received within the period; use a
    /// `receivedFrom` filter on live data) and OUTCOME (referrals concluded within the period;
    /// NOT_IDENTIFIED is the reconciled figure, see `cases.toml`).
    pub referrals: BTreeMap<String, BTreeMap<String, u32>>,
}

// -------------------------------------------------------------------------------------------------
// network.toml
// -------------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworkFile {
    #[serde(default)]
    agency: Vec<RawAgency>,
    #[serde(default)]
    network: Vec<RawGroup>,
    #[serde(default)]
    protocol: Vec<RawProtocol>,
    #[serde(default)]
    collaboration: Vec<RawCollaboration>,
    #[serde(default)]
    project: Vec<RawProject>,
    #[serde(default)]
    shelter: Vec<RawShelter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgency {
    id: String,
    name: String,
    kind: String,
    province: Option<String>,
    city: Option<String>,
    public_contact: Option<String>,
    website: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    referral_contact: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: String,
    name: String,
    province: Option<String>,
    lead: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    municipalities: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    id: String,
    title: String,
    signed_on: Option<String>,
    signatories: Vec<String>,
    policy_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollaboration {
    id: String,
    kind: String,
    from: String,
    to: String,
    since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    id: String,
    name: String,
    call: Option<String>,
    area: Option<String>,
    coordinator: String,
    enti: Vec<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    #[serde(default)]
    indicator: Vec<RawIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    key: String,
    label: String,
    area: Option<String>,
    expected: u32,
    achieved: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShelter {
    id: String,
    owner: String,
    name: String,
    address: String,
    city: String,
    phase: Option<String>,
}

/// Parses and checks `network.toml`: unique slugs, valid kinds and provinces, every reference
/// resolving, project enti being ENTE_ANTITRATTA, shelters visibly fake.
pub fn network(network_toml: &str) -> Result<DemoNetwork, String> {
    let raw: RawNetworkFile =
        toml::from_str(network_toml).map_err(|e| format!("network.toml: {e}"))?;

    let mut agencies = Vec::with_capacity(raw.agency.len());
    let mut ids = BTreeSet::new();
    for a in raw.agency {
        let what = format!("network.toml: agency {:?}", a.id);
        check_slug(&a.id, &what)?;
        if !ids.insert(a.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        if a.name.trim().is_empty() {
            return Err(format!("{what}: empty name"));
        }
        let kind = intern(&a.kind, AGENCY_KINDS, &format!("{what}: kind"))?;
        if let Some(p) = &a.province {
            check_province(p, &what)?;
        }
        match (a.latitude, a.longitude) {
            (None, None) => {}
            (Some(lat), Some(lon)) => {
                // Italy's bounding box: a swapped or mistyped coordinate lands outside it.
                if !(35.0..=48.0).contains(&lat) || !(6.0..=19.0).contains(&lon) {
                    return Err(format!("{what}: coordinates {lat},{lon} are not in Italy"));
                }
            }
            _ => return Err(format!("{what}: latitude and longitude go together")),
        }
        if let Some(c) = &a.public_contact {
            check_generic_mailbox(c, &what)?;
        }
        agencies.push(DemoAgency {
            id: a.id,
            name: a.name,
            kind,
            province: a.province,
            city: a.city,
            public_contact: a.public_contact,
            website: a.website,
            latitude: a.latitude,
            longitude: a.longitude,
            referral_contact: a.referral_contact,
        });
    }
    let kind_of = |id: &str| agencies.iter().find(|a| a.id == id).map(|a| a.kind);
    let resolve = |id: &str, what: &str| -> Result<(), String> {
        if ids.contains(id) {
            Ok(())
        } else {
            Err(format!("{what}: unknown agency {id:?}"))
        }
    };

    let mut networks = Vec::new();
    let mut seen = BTreeSet::new();
    for n in raw.network {
        let what = format!("network.toml: network {:?}", n.id);
        check_slug(&n.id, &what)?;
        if !seen.insert(n.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        if let Some(p) = &n.province {
            check_province(p, &what)?;
        }
        if let Some(l) = &n.lead {
            resolve(l, &format!("{what}: lead"))?;
        }
        check_distinct(&n.members, &format!("{what}: members"))?;
        for m in &n.members {
            resolve(m, &format!("{what}: members"))?;
        }
        networks.push(DemoNetworkGroup {
            id: n.id,
            name: n.name,
            province: n.province,
            lead: n.lead,
            members: n.members,
            municipalities: n.municipalities,
        });
    }

    let mut protocols = Vec::new();
    let mut seen = BTreeSet::new();
    for p in raw.protocol {
        let what = format!("network.toml: protocol {:?}", p.id);
        check_slug(&p.id, &what)?;
        if !seen.insert(p.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        if p.signatories.is_empty() {
            return Err(format!("{what}: no signatories"));
        }
        check_distinct(&p.signatories, &format!("{what}: signatories"))?;
        for s in &p.signatories {
            resolve(s, &format!("{what}: signatories"))?;
        }
        protocols.push(DemoProtocol {
            id: p.id,
            title: p.title,
            signed_on: opt_date(p.signed_on.as_deref(), &format!("{what}: signed_on"))?,
            signatories: p.signatories,
            policy_version: p.policy_version,
        });
    }

    let mut collaborations = Vec::new();
    let mut seen = BTreeSet::new();
    for c in raw.collaboration {
        let what = format!("network.toml: collaboration {:?}", c.id);
        if c.id.trim().is_empty() {
            return Err("network.toml: collaboration with an empty id".into());
        }
        if !seen.insert(c.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        check_kind_word(&c.kind, &format!("{what}: kind"))?;
        resolve(&c.from, &format!("{what}: from"))?;
        resolve(&c.to, &format!("{what}: to"))?;
        if c.from == c.to {
            return Err(format!("{what}: from and to are the same agency"));
        }
        collaborations.push(DemoCollaboration {
            id: c.id,
            kind: c.kind,
            from: c.from,
            to: c.to,
            since: opt_date(c.since.as_deref(), &format!("{what}: since"))?,
        });
    }

    let mut projects = Vec::new();
    let mut seen = BTreeSet::new();
    for p in raw.project {
        let what = format!("network.toml: project {:?}", p.id);
        check_slug(&p.id, &what)?;
        if !seen.insert(p.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        resolve(&p.coordinator, &format!("{what}: coordinator"))?;
        if p.enti.is_empty() {
            return Err(format!("{what}: no enti"));
        }
        check_distinct(&p.enti, &format!("{what}: enti"))?;
        for e in &p.enti {
            resolve(e, &format!("{what}: enti"))?;
            if kind_of(e) != Some("ENTE_ANTITRATTA") {
                return Err(format!("{what}: ente {e:?} is not an ENTE_ANTITRATTA"));
            }
        }
        let starts_on = opt_date(p.starts_on.as_deref(), &format!("{what}: starts_on"))?;
        let ends_on = opt_date(p.ends_on.as_deref(), &format!("{what}: ends_on"))?;
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            if e < s {
                return Err(format!("{what}: ends before it starts"));
            }
        }
        let mut keys = BTreeSet::new();
        let mut indicators = Vec::new();
        for i in p.indicator {
            if !keys.insert(i.key.clone()) {
                return Err(format!("{what}: duplicate indicator key {:?}", i.key));
            }
            indicators.push(DemoIndicator {
                key: i.key,
                label: i.label,
                area: i.area,
                expected: i.expected,
                achieved: i.achieved,
            });
        }
        projects.push(DemoProject {
            id: p.id,
            name: p.name,
            call: p.call,
            area: p.area,
            coordinator: p.coordinator,
            enti: p.enti,
            starts_on,
            ends_on,
            indicators,
        });
    }

    let mut shelters = Vec::new();
    let mut seen = BTreeSet::new();
    for s in raw.shelter {
        let what = format!("network.toml: shelter {:?}", s.id);
        check_slug(&s.id, &what)?;
        if !seen.insert(s.id.clone()) {
            return Err(format!("{what}: duplicate id"));
        }
        resolve(&s.owner, &format!("{what}: owner"))?;
        match kind_of(&s.owner) {
            Some("ENTE_ANTITRATTA") | Some("CENTRO_ANTIVIOLENZA") => {}
            _ => return Err(format!("{what}: owner must be an ente antitratta or a CAV")),
        }
        // Shelter addresses are secret in real life: demo ones must be recognisably fake.
        if !s.name.contains("(demo)") || !s.address.contains("(demo)") {
            return Err(format!(
                "{what}: name and address must be marked \"(demo)\""
            ));
        }
        let phase = match &s.phase {
            None => None,
            Some(p) => {
                let p = intern(p, CASE_PHASES, &format!("{what}: phase"))?;
                if !RESIDENTIAL_PHASES.contains(&p) {
                    return Err(format!("{what}: phase {p} is not a residential phase"));
                }
                Some(p)
            }
        };
        shelters.push(DemoShelter {
            id: s.id,
            owner: s.owner,
            name: s.name,
            address: s.address,
            city: s.city,
            phase,
        });
    }

    Ok(DemoNetwork {
        agencies,
        networks,
        protocols,
        collaborations,
        projects,
        shelters,
    })
}

// -------------------------------------------------------------------------------------------------
// cases.toml
// -------------------------------------------------------------------------------------------------

type Counts = BTreeMap<String, u32>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCasesFile {
    period: RawPeriod,
    cases: RawCases,
    referrals: RawReferrals,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    start: String,
    end: String,
    continuing_opened_from: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCases {
    project: String,
    code_prefix: String,
    total: u32,
    new_in_period: u32,
    continuing: u32,
    gender: Counts,
    age_group: Counts,
    nationality: Counts,
    exploitation: Counts,
    #[serde(default)]
    exploitation_rules: RawExploitationRules,
    permit_at_start: Counts,
    permit_current: Counts,
    emersion_channel: Counts,
    emersion_area: Counts,
    emersion_rules: RawEmersionRules,
    phase: Counts,
    outcome: Counts,
    extra: RawExtra,
    owners: RawOwners,
    #[serde(default)]
    preference: RawPreferences,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExploitationRules {
    #[serde(default)]
    second_type_with: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmersionRules {
    project_provinces: Vec<String>,
    other_provinces: Vec<String>,
    #[serde(default)]
    other_first_channels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtra {
    pregnant_in_community: u32,
    pregnant_territorial: u32,
    minors_per_household: Vec<u32>,
    complaints_before_period: u32,
    complaints_in_period: u32,
    #[serde(default)]
    new_territorial: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwners {
    new: Counts,
    continuing: Counts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPreferences {
    #[serde(default)]
    nationality: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    exploitation: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    emersion_channel: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    owner: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReferrals {
    project: String,
    code_prefix: String,
    by_province: BTreeMap<String, RawProvinceReferrals>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvinceReferrals {
    reported: u32,
    met: u32,
    interviews: u32,
    identified: u32,
    adhesions: u32,
    queue: u32,
    identified_trafficking: u32,
    identified_sexual: u32,
    identified_labour: u32,
    not_identified: u32,
    targets: Vec<String>,
    subjects: Vec<String>,
    sources: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    category: String,
    #[allow(dead_code)] // documentation for the reader of cases.toml
    label: String,
    count: u32,
    #[serde(default)]
    agencies: Vec<String>,
}

/// Parsed and checked `cases.toml` (everything that does not need the network).
struct CasesSpec {
    start: NaiveDate,
    end: NaiveDate,
    continuing_from: NaiveDate,
    raw: RawCasesFile,
}

fn parse_cases(cases_toml: &str) -> Result<CasesSpec, String> {
    let raw: RawCasesFile = toml::from_str(cases_toml).map_err(|e| format!("cases.toml: {e}"))?;
    let start = date(&raw.period.start, "cases.toml: period.start")?;
    let end = date(&raw.period.end, "cases.toml: period.end")?;
    let continuing_from = date(
        &raw.period.continuing_opened_from,
        "cases.toml: period.continuing_opened_from",
    )?;
    if end <= start || continuing_from >= start {
        return Err("cases.toml: period dates out of order".into());
    }
    let c = &raw.cases;
    if c.total == 0 || c.new_in_period + c.continuing != c.total {
        return Err(format!(
            "cases.toml: new_in_period ({}) + continuing ({}) must equal total ({})",
            c.new_in_period, c.continuing, c.total
        ));
    }
    let n = c.total;
    check_counts(&c.gender, Some(GENDERS), Some(n), "cases.gender")?;
    check_counts(&c.age_group, Some(AGE_GROUPS), Some(n), "cases.age_group")?;
    check_counts(&c.nationality, None, Some(n), "cases.nationality")?;
    for code in c.nationality.keys() {
        check_country(code, "cases.nationality")?;
    }
    let exploitation_sum = check_counts(
        &c.exploitation,
        Some(EXPLOITATIONS),
        None,
        "cases.exploitation",
    )?;
    if exploitation_sum < n {
        return Err(format!(
            "cases.toml: cases.exploitation sums to {exploitation_sum}, fewer than the {n} people"
        ));
    }
    for (surplus, with) in &c.exploitation_rules.second_type_with {
        intern(
            surplus,
            EXPLOITATIONS,
            "cases.exploitation_rules.second_type_with",
        )?;
        intern(
            with,
            EXPLOITATIONS,
            "cases.exploitation_rules.second_type_with",
        )?;
    }
    check_counts(
        &c.permit_at_start,
        Some(PERMIT_TYPES),
        Some(n),
        "cases.permit_at_start",
    )?;
    check_counts(
        &c.permit_current,
        Some(PERMIT_TYPES),
        Some(n),
        "cases.permit_current",
    )?;
    check_counts(
        &c.emersion_channel,
        Some(EMERSION_CHANNELS),
        Some(n),
        "cases.emersion_channel",
    )?;
    check_counts(
        &c.emersion_area,
        Some(&["PROJECT", "OTHER"][..]),
        Some(n),
        "cases.emersion_area",
    )?;
    for p in c
        .emersion_rules
        .project_provinces
        .iter()
        .chain(&c.emersion_rules.other_provinces)
    {
        check_province(p, "cases.toml: cases.emersion_rules")?;
    }
    if c.emersion_rules.project_provinces.is_empty() || c.emersion_rules.other_provinces.is_empty()
    {
        return Err("cases.toml: cases.emersion_rules needs project and other provinces".into());
    }
    for ch in &c.emersion_rules.other_first_channels {
        intern(
            ch,
            EMERSION_CHANNELS,
            "cases.emersion_rules.other_first_channels",
        )?;
    }
    check_counts(&c.phase, Some(CASE_PHASES), Some(n), "cases.phase")?;
    let closed = c.phase.get("CLOSED").copied().unwrap_or(0);
    check_counts(
        &c.outcome,
        Some(CASE_OUTCOMES),
        Some(closed),
        "cases.outcome",
    )?;
    check_counts(
        &c.owners.new,
        None,
        Some(c.new_in_period),
        "cases.owners.new",
    )?;
    check_counts(
        &c.owners.continuing,
        None,
        Some(c.continuing),
        "cases.owners.continuing",
    )?;
    let x = &c.extra;
    if x.minors_per_household.contains(&0) {
        return Err("cases.toml: cases.extra.minors_per_household has an empty household".into());
    }
    if x.complaints_before_period + x.complaints_in_period > n {
        return Err("cases.toml: cases.extra: more complaints than people".into());
    }
    Ok(CasesSpec {
        start,
        end,
        continuing_from,
        raw,
    })
}

// -------------------------------------------------------------------------------------------------
// Cases
// -------------------------------------------------------------------------------------------------

/// Generates the synthetic people in assistance. Every marginal of the result equals `cases.toml`
/// exactly (gender, age group, nationality, exploitation, both permits, emersion channel and area,
/// phase, outcome, the scalar figures); who gets which value follows the preferences in the file and
/// the maturity rules in this module, so the combinations are plausible. Deterministic.
pub fn cases(network: &DemoNetwork, cases_toml: &str) -> Result<Vec<DemoCase>, String> {
    let spec = parse_cases(cases_toml)?;
    let c = &spec.raw.cases;
    let n = c.total as usize;
    let project = network
        .project(&c.project)
        .ok_or_else(|| format!("cases.toml: unknown project {:?}", c.project))?;
    for (owner, _) in c.owners.new.iter().chain(&c.owners.continuing) {
        let agency = network
            .agency(owner)
            .ok_or_else(|| format!("cases.toml: owner {owner:?} is not an agency"))?;
        if !project.enti.contains(owner) {
            return Err(format!(
                "cases.toml: owner {owner:?} is not an ente of {:?}",
                project.id
            ));
        }
        if agency.province.is_none() {
            return Err(format!("cases.toml: owner {owner:?} has no province"));
        }
    }

    // 1. Opening dates. Person i < continuing is a continuing case; dates are spread evenly over
    //    their window with a small jitter, so index order is (almost) date order; we sort to be sure.
    let continuing = c.continuing as usize;
    let mut rng = Rng::new(SEED);
    let mut opened: Vec<(NaiveDate, usize)> = Vec::with_capacity(n);
    let before_start = add_days(spec.start, -1);
    for i in 0..continuing {
        opened.push((
            spread_date(spec.continuing_from, before_start, i, continuing, &mut rng),
            i,
        ));
    }
    let new_until = add_days(spec.end, -14); // even the newest case has two weeks of history
    for j in 0..(n - continuing) {
        opened.push((
            spread_date(spec.start, new_until, j, n - continuing, &mut rng),
            continuing + j,
        ));
    }
    opened.sort();
    // From here on, person index = rank by opening date (0 = oldest).
    let opened_on: Vec<NaiveDate> = opened.iter().map(|(d, _)| *d).collect();
    let is_new: Vec<bool> = opened.iter().map(|(_, i)| *i >= continuing).collect();
    let all: Vec<usize> = (0..n).collect();

    // 2. Phase and outcome by maturity.
    let mut slots: Vec<(&'static str, Option<&'static str>)> = Vec::with_capacity(n);
    let mut used_outcomes = 0u32;
    for (phase, outcome) in MATURITY {
        let count = match outcome {
            Some(o) => c.outcome.get(*o).copied().unwrap_or(0),
            None => c.phase.get(*phase).copied().unwrap_or(0),
        };
        if outcome.is_some() {
            used_outcomes += count;
        }
        for _ in 0..count {
            slots.push((phase, *outcome));
        }
    }
    if slots.len() != n || used_outcomes != c.outcome.values().sum::<u32>() {
        return Err("cases.toml: phases and outcomes do not fill the cases".into());
    }
    // Some people join directly in territorial support (the report's referral adhesions): swap
    // that many slots between the oldest new cases in first reception or emergency and the newest
    // continuing cases in territorial support. Marginals are unchanged.
    for _ in 0..c.extra.new_territorial {
        let p = (0..n).find(|&p| {
            is_new[p] && (slots[p].0 == "PRIMA_ACCOGLIENZA" || slots[p].0 == "PRONTO_INTERVENTO")
        });
        let q = (0..n)
            .rev()
            .find(|&q| !is_new[q] && slots[q].0 == "PRESA_IN_CARICO_TERRITORIALE");
        match (p, q) {
            (Some(p), Some(q)) => slots.swap(p, q),
            _ => return Err("cases.toml: cases.extra.new_territorial cannot be placed".into()),
        }
    }

    // 3. Gender and age group spread evenly over time (men are not all old or all new).
    let gender = spread_values(&c.gender, n, "cases.gender")?;
    let age_group = spread_values(&c.age_group, n, "cases.age_group")?;

    // Processing order for the preference-driven dimensions: smaller gender groups first, so their
    // preferences are served before the large group takes what is left; oldest first within a group.
    let mut gender_rank: Vec<(&String, &u32)> = c.gender.iter().collect();
    gender_rank.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    let rank_of = |g: &str| {
        gender_rank
            .iter()
            .position(|(k, _)| k.as_str() == g)
            .unwrap_or(0)
    };
    let mut order = all.clone();
    order.sort_by_key(|&p| (rank_of(&gender[p]), p));

    // 4. Nationality (by gender), exploitation and channel (by nationality and gender).
    let pref_nat = parse_prefs(
        &c.preference.nationality,
        &c.nationality,
        "cases.preference.nationality",
    )?;
    let nationality = greedy_assign(
        &order,
        &c.nationality,
        &|p| vec![gender[p].clone()],
        &pref_nat,
        false,
        "cases.nationality",
    )?
    .0;

    let pref_exp = parse_prefs(
        &c.preference.exploitation,
        &c.exploitation,
        "cases.preference.exploitation",
    )?;
    let keys_nat_gender = |p: usize| vec![nationality[p].clone(), gender[p].clone()];
    let (primary, surplus) = greedy_assign(
        &order,
        &c.exploitation,
        &keys_nat_gender,
        &pref_exp,
        true,
        "cases.exploitation",
    )?;
    let mut exploitation: Vec<Vec<String>> = primary.into_iter().map(|v| vec![v]).collect();
    for (value, count) in &surplus {
        let with = c.exploitation_rules.second_type_with.get(value);
        for _ in 0..*count {
            // Prefer the configured companion type; otherwise any single-type person without it.
            // Scanned from the end of the processing order (the largest group, newest first), so a
            // second type lands in the group it is typical of rather than on the few first served.
            let pick = order
                .iter()
                .rev()
                .copied()
                .find(|&p| {
                    exploitation[p].len() == 1 && with.is_some_and(|w| &exploitation[p][0] == w)
                })
                .or_else(|| {
                    order
                        .iter()
                        .rev()
                        .copied()
                        .find(|&p| exploitation[p].len() == 1 && &exploitation[p][0] != value)
                })
                .ok_or_else(|| {
                    format!("cases.toml: nobody can take the surplus exploitation {value}")
                })?;
            exploitation[pick].push(value.clone());
        }
    }

    let pref_ch = parse_prefs(
        &c.preference.emersion_channel,
        &c.emersion_channel,
        "cases.preference.emersion_channel",
    )?;
    let channel = greedy_assign(
        &order,
        &c.emersion_channel,
        &keys_nat_gender,
        &pref_ch,
        false,
        "cases.emersion_channel",
    )?
    .0;

    // 5. Owners, per cohort (the report gives the new cases' split by ente).
    let all_owners: Counts = c
        .owners
        .new
        .iter()
        .chain(&c.owners.continuing)
        .map(|(k, _)| (k.clone(), 0))
        .collect();
    let pref_owner = parse_prefs(&c.preference.owner, &all_owners, "cases.preference.owner")?;
    let mut owner = vec![String::new(); n];
    for (cohort_new, counts) in [(false, &c.owners.continuing), (true, &c.owners.new)] {
        let cohort: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&p| is_new[p] == cohort_new)
            .collect();
        // Gender first (women-only reception), then the phase (territorial teams hold territorial
        // support, shelter-running enti the residential phases).
        let keys_gender_phase = |p: usize| vec![gender[p].clone(), slots[p].0.to_string()];
        let assigned = greedy_assign(
            &cohort,
            counts,
            &keys_gender_phase,
            &pref_owner,
            false,
            "cases.owners",
        )?
        .0;
        for &p in &cohort {
            owner[p] = assigned[p].clone();
        }
    }

    // 6. Permits: both lists from most to least settled, zipped with the cases oldest first.
    let permit_at_start = ranked_values(
        &c.permit_at_start,
        PERMIT_ADVANCEMENT,
        "cases.permit_at_start",
    )?;
    let permit_current = ranked_values(
        &c.permit_current,
        PERMIT_ADVANCEMENT,
        "cases.permit_current",
    )?;

    // 7. Emersion area and province.
    let rules = &c.emersion_rules;
    let mut other_left = c.emersion_area.get("OTHER").copied().unwrap_or(0);
    let mut is_other = vec![false; n];
    for pass in 0..2 {
        for p in 0..n {
            if other_left == 0 {
                break;
            }
            let first = rules.other_first_channels.contains(&channel[p]);
            if !is_other[p] && (pass == 1 || first) {
                is_other[p] = true;
                other_left -= 1;
            }
        }
    }
    let mut project_cycle = 0usize;
    let mut other_cycle = 0usize;
    let mut emersion_province = Vec::with_capacity(n);
    for p in 0..n {
        let owner_province = province_of(network, &owner[p])?;
        let prov = if is_other[p] {
            other_cycle += 1;
            rules.other_provinces[(other_cycle - 1) % rules.other_provinces.len()].clone()
        } else if rules.project_provinces.contains(&owner_province) {
            owner_province
        } else {
            project_cycle += 1;
            rules.project_provinces[(project_cycle - 1) % rules.project_provinces.len()].clone()
        };
        emersion_province.push(prov);
    }

    // 8. Scalars: pregnancy, children, complaints.
    let x = &c.extra;
    let mut pregnant = vec![false; n];
    let female = |p: usize| gender[p] == "FEMALE";
    let in_community = |p: usize| RESIDENTIAL_PHASES.contains(&slots[p].0);
    for (count, test, what) in [
        (
            x.pregnant_in_community,
            &in_community as &dyn Fn(usize) -> bool,
            "pregnant_in_community",
        ),
        (
            x.pregnant_territorial,
            &|p: usize| slots[p].0 == "PRESA_IN_CARICO_TERRITORIALE",
            "pregnant_territorial",
        ),
    ] {
        // Newest first: a pregnancy followed in this period.
        let picks: Vec<usize> = (0..n)
            .rev()
            .filter(|&p| female(p) && !pregnant[p] && test(p))
            .take(count as usize)
            .collect();
        if picks.len() != count as usize {
            return Err(format!(
                "cases.toml: not enough women for cases.extra.{what}"
            ));
        }
        for p in picks {
            pregnant[p] = true;
        }
    }
    let mut minors = vec![0u32; n];
    {
        // Mothers with children: territorial support first (households living on their own), then
        // the other open cases, oldest first.
        let mut candidates: Vec<usize> = (0..n)
            .filter(|&p| female(p) && slots[p].0 == "PRESA_IN_CARICO_TERRITORIALE")
            .collect();
        candidates.extend((0..n).filter(|&p| {
            female(p) && slots[p].0 != "PRESA_IN_CARICO_TERRITORIALE" && slots[p].0 != "CLOSED"
        }));
        if candidates.len() < x.minors_per_household.len() {
            return Err(
                "cases.toml: not enough open cases of women for cases.extra.minors_per_household"
                    .into(),
            );
        }
        for (p, m) in candidates.into_iter().zip(&x.minors_per_household) {
            minors[p] = *m;
        }
    }
    let mut complaint: Vec<Option<NaiveDate>> = vec![None; n];
    {
        // Complaints are most often filed in labour and illegal-economy cases (the report's NIL cases).
        let prone = |p: usize| {
            exploitation[p]
                .iter()
                .any(|e| e == "LABOUR" || e == "ILLEGAL_ECONOMIES")
        };
        let ordered: Vec<usize> = (0..n)
            .filter(|&p| prone(p))
            .chain((0..n).filter(|&p| !prone(p)))
            .collect();
        let before: Vec<usize> = ordered
            .iter()
            .copied()
            .filter(|&p| !is_new[p])
            .take(x.complaints_before_period as usize)
            .collect();
        let during: Vec<usize> = ordered
            .iter()
            .copied()
            .filter(|&p| is_new[p])
            .take(x.complaints_in_period as usize)
            .collect();
        if before.len() != x.complaints_before_period as usize
            || during.len() != x.complaints_in_period as usize
        {
            return Err("cases.toml: not enough cases for cases.extra complaints".into());
        }
        for p in before {
            complaint[p] = Some(between(opened_on[p], before_start, &mut rng));
        }
        for p in during {
            complaint[p] = Some(between(opened_on[p], spec.end, &mut rng));
        }
    }

    // 9. Assemble.
    let width = digits(n);
    let mut shelter_cycle: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(n);
    for p in 0..n {
        let (phase, outcome) = slots[p];
        let closed_on = if phase == "CLOSED" {
            // Closed within the period, at least a month after opening where possible.
            let lo = std::cmp::max(add_days(opened_on[p], 30), spec.start);
            let lo = std::cmp::min(lo, spec.end);
            Some(between(
                std::cmp::max(lo, add_days(opened_on[p], 1)),
                spec.end,
                &mut rng,
            ))
        } else {
            None
        };
        let shelter = if RESIDENTIAL_PHASES.contains(&phase) {
            let own: Vec<&DemoShelter> = network
                .shelters
                .iter()
                .filter(|s| s.owner == owner[p])
                .collect();
            let matching: Vec<&DemoShelter> = own
                .iter()
                .copied()
                .filter(|s| s.phase == Some(phase))
                .collect();
            let pool = if matching.is_empty() { own } else { matching };
            if pool.is_empty() {
                None
            } else {
                let k = shelter_cycle.entry((owner[p].clone(), phase)).or_insert(0);
                *k += 1;
                Some(pool[(*k - 1) % pool.len()].id.clone())
            }
        } else {
            None
        };
        let mut exp: Vec<&'static str> = Vec::new();
        for e in &exploitation[p] {
            exp.push(intern(e, EXPLOITATIONS, "cases.exploitation")?);
        }
        out.push(DemoCase {
            code: format!("{}-{:0width$}", c.code_prefix, p + 1),
            project: project.id.clone(),
            owner: owner[p].clone(),
            province: province_of(network, &owner[p])?,
            new_in_period: is_new[p],
            phase,
            opened_on: opened_on[p],
            closed_on,
            gender: intern(&gender[p], GENDERS, "cases.gender")?,
            age_group: intern(&age_group[p], AGE_GROUPS, "cases.age_group")?,
            nationality: nationality[p].clone(),
            exploitation: exp,
            emersion_channel: intern(&channel[p], EMERSION_CHANNELS, "cases.emersion_channel")?,
            emersion_province: emersion_province[p].clone(),
            accompanying_minors: minors[p],
            pregnant: pregnant[p],
            alias: format!("Persona {:0width$}", p + 1),
            shelter,
            permit_at_start: permit_at_start[p],
            permit_current: permit_current[p],
            complaint_filed: complaint[p].is_some(),
            complaint_filed_on: complaint[p],
            outcome,
            outcome_on: closed_on,
        });
    }
    Ok(out)
}

// -------------------------------------------------------------------------------------------------
// Referrals
// -------------------------------------------------------------------------------------------------

/// How one province's summary row is realised as referrals (shared by [`referrals`] and [`expected`]).
struct ProvincePlan {
    /// Received in the period and interviewed for the first time in it.
    met_in: u32,
    /// Received in the period, never reached (UNREACHABLE).
    lost: u32,
    /// Received before the period, first interviewed in it.
    carried_met: u32,
    /// Received and first interviewed before the period, identified in it.
    carried_identified: u32,
    /// Among the people met in the period: identified, not identified, still in progress.
    identified_met: u32,
    not_identified: u32,
    in_progress: u32,
}

fn plan_province(prov: &str, r: &RawProvinceReferrals) -> Result<ProvincePlan, String> {
    let what = format!("cases.toml: referrals.by_province.{prov}");
    if r.queue > r.reported {
        return Err(format!("{what}: queue exceeds reported"));
    }
    if r.identified_trafficking + r.identified_sexual + r.identified_labour != r.identified {
        return Err(format!(
            "{what}: identified_* do not sum to identified ({})",
            r.identified
        ));
    }
    if r.adhesions > r.identified {
        return Err(format!("{what}: more adhesions than identifications"));
    }
    let met_in = std::cmp::min(r.met, r.reported - r.queue);
    let lost = r.reported - r.queue - met_in;
    let carried_met = r.met - met_in;
    // Identification first (the summary table is authoritative), then the provincial "non
    // identificati" as far as the people met allow; the rest is still being interviewed.
    let identified_met = std::cmp::min(r.identified, r.met);
    let not_identified = std::cmp::min(r.not_identified, r.met - identified_met);
    let in_progress = r.met - identified_met - not_identified;
    let carried_identified = r.identified - identified_met;
    if r.interviews < r.met + carried_identified {
        return Err(format!(
            "{what}: {} interviews cannot cover {} people interviewed in the period",
            r.interviews,
            r.met + carried_identified
        ));
    }
    Ok(ProvincePlan {
        met_in,
        lost,
        carried_met,
        carried_identified,
        identified_met,
        not_identified,
        in_progress,
    })
}

/// Generates the synthetic referrals. For each province of `cases.toml`:
///
/// - `reported` referrals received within the period, from the report's senders (Commissioni
///   territoriali mostly, then CAS, public bodies, the Prefettura; lawyers, courts and unnamed bodies
///   are recorded by the target ente itself, see [`DemoReferral::requested_by`]); the latest `queue`
///   of them are RECEIVED/SCHEDULED, those neither queued nor met are UNREACHABLE;
/// - carried-over referrals (received before the period, `carried_over = true`) where the report's
///   own figures need them: people first met in the period beyond those referred in it, and people
///   met before the period but identified in it;
/// - outcomes, adhesions and interviews so that [`referral_rows`] of the result equals the report's
///   summary table for every province.
///
/// Targets are ENTE_ANTITRATTA agencies of the province. Deterministic.
pub fn referrals(network: &DemoNetwork, cases_toml: &str) -> Result<Vec<DemoReferral>, String> {
    let spec = parse_cases(cases_toml)?;
    let rr = &spec.raw.referrals;
    let project = network
        .project(&rr.project)
        .ok_or_else(|| format!("cases.toml: unknown referrals.project {:?}", rr.project))?;
    let span = days_between(spec.start, spec.end);
    let mut out = Vec::new();

    for (prov_index, (prov, r)) in rr.by_province.iter().enumerate() {
        let what = format!("cases.toml: referrals.by_province.{prov}");
        check_province(prov, &what)?;
        let plan = plan_province(prov, r)?;
        if r.targets.is_empty() || r.subjects.is_empty() || r.sources.is_empty() {
            return Err(format!(
                "{what}: targets, subjects and sources are required"
            ));
        }
        for t in &r.targets {
            let a = network
                .agency(t)
                .ok_or_else(|| format!("{what}: unknown target {t:?}"))?;
            if a.kind != "ENTE_ANTITRATTA" || a.province.as_deref() != Some(prov.as_str()) {
                return Err(format!(
                    "{what}: target {t:?} is not an ente antitratta of {prov}"
                ));
            }
        }
        let mut subjects = Vec::new();
        for s in &r.subjects {
            let (nat, g) = s
                .split_once('/')
                .ok_or_else(|| format!("{what}: subject {s:?} is not \"CC/GENDER\""))?;
            check_country(nat, &what)?;
            let g = match g {
                "F" => "FEMALE",
                "M" => "MALE",
                "T" => "TRANSGENDER",
                other => return Err(format!("{what}: subject gender {other:?} is not F, M or T")),
            };
            subjects.push((nat.to_string(), g));
        }
        let mut source_counts = Counts::new();
        for s in &r.sources {
            if source_counts.insert(s.category.clone(), s.count).is_some() {
                return Err(format!("{what}: source {:?} listed twice", s.category));
            }
            for a in &s.agencies {
                let agency = network
                    .agency(a)
                    .ok_or_else(|| format!("{what}: unknown sender {a:?}"))?;
                if !REQUESTER_KINDS.contains(&agency.kind) {
                    return Err(format!(
                        "{what}: {a:?} ({}) may not request referrals",
                        agency.kind
                    ));
                }
            }
        }
        if source_counts.values().sum::<u32>() != r.reported {
            return Err(format!(
                "{what}: sources do not sum to reported ({})",
                r.reported
            ));
        }

        // Build the province's referrals, oldest receipt first: carried over (met before the period,
        // then referred before it and met in it), then those received in the period.
        #[derive(Clone, Copy, PartialEq)]
        enum Role {
            CarriedIdentified,
            CarriedMet,
            Met,
            Lost,
            Queue,
        }
        let mut roles = Vec::new();
        roles.extend(std::iter::repeat_n(
            Role::CarriedIdentified,
            plan.carried_identified as usize,
        ));
        roles.extend(std::iter::repeat_n(
            Role::CarriedMet,
            plan.carried_met as usize,
        ));
        roles.extend(std::iter::repeat_n(Role::Met, plan.met_in as usize));
        roles.extend(std::iter::repeat_n(Role::Lost, plan.lost as usize));
        roles.extend(std::iter::repeat_n(Role::Queue, r.queue as usize));
        let total = roles.len();
        let mut rng = Rng::new(SEED ^ (prov_index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));

        // Receipt and first-interview dates.
        let reported = r.reported as i64;
        let mut received = Vec::with_capacity(total);
        let mut first_met: Vec<Option<NaiveDate>> = Vec::with_capacity(total);
        let (mut k_ci, mut k_cm, mut k_in) = (0i64, 0i64, 0i64);
        let half = std::cmp::max(1, span / 2);
        for role in &roles {
            match role {
                Role::CarriedIdentified => {
                    // Referred in spring 2022, met in summer 2022, before the period.
                    let rec = add_days(spec.start, -200 + 7 * k_ci);
                    received.push(rec);
                    first_met.push(Some(std::cmp::min(
                        add_days(rec, 20),
                        add_days(spec.start, -1),
                    )));
                    k_ci += 1;
                }
                Role::CarriedMet => {
                    // Referred in the last months of the previous call, met early in this period.
                    let n_cm = plan.carried_met as i64;
                    let rec = add_days(spec.start, -100 + (k_cm * 90) / n_cm);
                    received.push(rec);
                    first_met.push(Some(add_days(spec.start, 3 + (k_cm * half) / n_cm)));
                    k_cm += 1;
                }
                _ => {
                    // Midpoints of equal slices of the period, shifted a little per province.
                    let rec = add_days(
                        spec.start,
                        ((2 * k_in + 1) * span) / (2 * reported) + prov_index as i64,
                    );
                    let rec = std::cmp::min(rec, spec.end);
                    received.push(rec);
                    first_met.push(if *role == Role::Met {
                        Some(std::cmp::min(
                            add_days(rec, 7 + rng.below(21) as i64),
                            spec.end,
                        ))
                    } else {
                        None
                    });
                    k_in += 1;
                }
            }
        }

        // Outcomes: over the people met in the period (carried first, then by date), identified
        // ones first, then not identified, and the most recent still in progress.
        let met_order: Vec<usize> = (0..total)
            .filter(|&i| matches!(roles[i], Role::CarriedMet | Role::Met))
            .collect();
        let mut state: Vec<Option<&'static str>> = vec![None; total]; // outcome, or None
        let mut in_progress = vec![false; total];
        for (k, &i) in met_order.iter().enumerate() {
            let k = k as u32;
            if k < plan.identified_met {
                state[i] = Some("IDENTIFIED");
            } else if k < plan.identified_met + plan.not_identified {
                state[i] = Some("NOT_IDENTIFIED");
            } else if k < plan.identified_met + plan.not_identified + plan.in_progress {
                in_progress[i] = true;
            } else {
                return Err(format!("{what}: internal: more people met than planned"));
            }
        }
        for i in 0..total {
            if roles[i] == Role::CarriedIdentified {
                state[i] = Some("IDENTIFIED");
            }
        }
        // Exploitation types of the identified, in order: sexual, labour, then "tratta" without a
        // stated type, so that the identifications the provincial table does not break down (the
        // carried-over ones, listed last) are the generic ones.
        let identified_order: Vec<usize> = met_order
            .iter()
            .copied()
            .chain((0..total).filter(|&i| roles[i] == Role::CarriedIdentified))
            .filter(|&i| state[i] == Some("IDENTIFIED"))
            .collect();
        let mut labels = Vec::new();
        labels.extend(std::iter::repeat_n(
            "IDENTIFIED_SEXUAL_EXPLOITATION",
            r.identified_sexual as usize,
        ));
        labels.extend(std::iter::repeat_n(
            "IDENTIFIED_LABOUR_EXPLOITATION",
            r.identified_labour as usize,
        ));
        labels.extend(std::iter::repeat_n(
            "IDENTIFIED_TRAFFICKING",
            r.identified_trafficking as usize,
        ));
        let mut outcome: Vec<Option<&'static str>> = vec![None; total];
        for (i, label) in identified_order.iter().zip(labels) {
            outcome[*i] = Some(label);
        }
        for i in 0..total {
            if state[i] == Some("NOT_IDENTIFIED") {
                outcome[i] = Some("NOT_IDENTIFIED");
            }
        }
        // Adhesions: the most recent identifications among the referrals of the period.
        let mut adhesion_pool: Vec<usize> = identified_order
            .iter()
            .copied()
            .filter(|&i| roles[i] == Role::Met)
            .collect();
        adhesion_pool.reverse();
        adhesion_pool.extend(
            identified_order
                .iter()
                .copied()
                .filter(|&i| roles[i] != Role::Met),
        );
        let adhering: BTreeSet<usize> = adhesion_pool
            .into_iter()
            .take(r.adhesions as usize)
            .collect();

        // Interviews in the period: one each for everyone interviewed in it, the rest round-robin.
        let interviewed: Vec<usize> = met_order
            .iter()
            .copied()
            .chain((0..total).filter(|&i| roles[i] == Role::CarriedIdentified))
            .collect();
        let mut interviews = vec![0u32; total];
        for &i in &interviewed {
            interviews[i] = 1;
        }
        let extra = r.interviews - interviewed.len() as u32;
        if interviewed.is_empty() && extra > 0 {
            return Err(format!("{what}: interviews but nobody interviewed"));
        }
        for k in 0..extra as usize {
            interviews[interviewed[k % interviewed.len()]] += 1;
        }

        // Senders: in-period referrals get the report's categories interleaved over time.
        let in_period: Vec<usize> = (0..total)
            .filter(|&i| matches!(roles[i], Role::Met | Role::Lost | Role::Queue))
            .collect();
        let categories =
            spread_values(&source_counts, in_period.len(), &format!("{what}.sources"))?;
        let mut category_of = vec![r.sources[0].category.clone(); total];
        for (i, cat) in in_period.iter().zip(categories) {
            category_of[*i] = cat;
        }
        let mut sender_cycle: BTreeMap<String, usize> = BTreeMap::new();
        let queue_scheduled = r.queue / 2; // the older half of the queue already has a date

        // Subjects (nationality, gender) from the province's list, cycled to the number of referrals,
        // handed out so that labour identifications go to men and sexual ones to women where the list
        // allows (only plausibility; nationality and gender of referrals are not report figures).
        let pool: Vec<&(String, &'static str)> =
            (0..total).map(|k| &subjects[k % subjects.len()]).collect();
        let mut pool_used = vec![false; total];
        let mut subject_of: Vec<usize> = vec![0; total];
        for i in 0..total {
            let wanted = match outcome[i] {
                Some("IDENTIFIED_LABOUR_EXPLOITATION") => Some("MALE"),
                Some("IDENTIFIED_SEXUAL_EXPLOITATION") => Some("FEMALE"),
                _ => None,
            };
            let pick = (0..total)
                .find(|&k| !pool_used[k] && wanted.is_some_and(|g| pool[k].1 == g))
                .or_else(|| (0..total).find(|&k| !pool_used[k]))
                .ok_or_else(|| format!("{what}: internal: subjects exhausted"))?;
            pool_used[pick] = true;
            subject_of[i] = pick;
        }

        let width = std::cmp::max(3, digits(total));
        let mut queue_seen = 0u32;
        for i in 0..total {
            let target = r.targets[i % r.targets.len()].clone();
            let source = r
                .sources
                .iter()
                .find(|s| s.category == category_of[i])
                .ok_or_else(|| format!("{what}: internal: lost source {:?}", category_of[i]))?;
            let requested_by = if source.agencies.is_empty() {
                target.clone()
            } else {
                let k = sender_cycle.entry(source.category.clone()).or_insert(0);
                *k += 1;
                source.agencies[(*k - 1) % source.agencies.len()].clone()
            };
            let (status, concluded_on) = match roles[i] {
                Role::Queue => {
                    queue_seen += 1;
                    (
                        if queue_seen <= queue_scheduled {
                            "SCHEDULED"
                        } else {
                            "RECEIVED"
                        },
                        None,
                    )
                }
                Role::Lost => ("UNREACHABLE", None),
                _ if in_progress[i] => ("IN_PROGRESS", None),
                _ => {
                    let from = match roles[i] {
                        // Identified early in the period.
                        Role::CarriedIdentified => {
                            add_days(spec.start, 14 + ((i as i64) * half) / total as i64)
                        }
                        _ => add_days(
                            first_met[i].unwrap_or(received[i]),
                            7 * (interviews[i] as i64 - 1),
                        ),
                    };
                    let lo = std::cmp::max(from, spec.start);
                    (
                        "CONCLUDED",
                        Some(between(
                            std::cmp::min(lo, spec.end),
                            std::cmp::min(add_days(lo, 6), spec.end),
                            &mut rng,
                        )),
                    )
                }
            };
            let (nat, g) = pool[subject_of[i]];
            out.push(DemoReferral {
                code: format!("{}-{prov}-{:0width$}", rr.code_prefix, i + 1),
                project: project.id.clone(),
                requested_by,
                source: source.category.clone(),
                target,
                received_on: received[i],
                province: prov.clone(),
                status,
                concluded_on,
                subject_ref: format!("DEMO-{prov}-{:0width$}", i + 1),
                subject_gender: g,
                subject_nationality: nat.clone(),
                first_interview_on: first_met[i],
                interviews_before_period: u32::from(roles[i] == Role::CarriedIdentified),
                interviews: interviews[i],
                outcome: if status == "CONCLUDED" {
                    outcome[i]
                } else {
                    None
                },
                programme_adhesion: if status == "CONCLUDED" {
                    Some(adhering.contains(&i))
                } else {
                    None
                },
                carried_over: matches!(roles[i], Role::CarriedIdentified | Role::CarriedMet),
            });
        }
    }
    Ok(out)
}

// -------------------------------------------------------------------------------------------------
// Expected tables and the aggregations to compare with them
// -------------------------------------------------------------------------------------------------

/// The report's figures from `cases.toml`, as maps, for comparison with generated or live data.
pub fn expected(cases_toml: &str) -> Result<ExpectedTables, String> {
    let spec = parse_cases(cases_toml)?;
    let c = &spec.raw.cases;
    let mut cases = BTreeMap::new();
    for (dim, counts) in [
        ("GENDER", &c.gender),
        ("AGE_GROUP", &c.age_group),
        ("NATIONALITY", &c.nationality),
        ("EXPLOITATION", &c.exploitation),
        ("PERMIT_AT_START", &c.permit_at_start),
        ("PERMIT_CURRENT", &c.permit_current),
        ("EMERSION_CHANNEL", &c.emersion_channel),
        ("EMERSION_AREA", &c.emersion_area),
        ("PHASE", &c.phase),
        ("OUTCOME", &c.outcome),
    ] {
        cases.insert(
            dim.to_string(),
            counts
                .iter()
                .filter(|(_, &v)| v > 0)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        );
    }
    let x = &c.extra;
    let case_figures = BTreeMap::from([
        (
            "PREGNANT".to_string(),
            x.pregnant_in_community + x.pregnant_territorial,
        ),
        (
            "ACCOMPANYING_MINORS".to_string(),
            x.minors_per_household.iter().sum(),
        ),
        (
            "COMPLAINTS_FILED".to_string(),
            x.complaints_before_period + x.complaints_in_period,
        ),
    ]);

    let mut referral_rows = BTreeMap::new();
    let mut by_province = BTreeMap::new();
    let mut by_outcome: BTreeMap<String, u32> = BTreeMap::new();
    for (prov, r) in &spec.raw.referrals.by_province {
        let plan = plan_province(prov, r)?;
        referral_rows.insert(
            prov.clone(),
            ExpectedReferralRow {
                reported: r.reported,
                met: r.met,
                interviews: r.interviews,
                identified: r.identified,
                adhesions: r.adhesions,
                queue: r.queue,
            },
        );
        by_province.insert(prov.clone(), r.reported);
        for (k, v) in [
            ("IDENTIFIED_TRAFFICKING", r.identified_trafficking),
            ("IDENTIFIED_SEXUAL_EXPLOITATION", r.identified_sexual),
            ("IDENTIFIED_LABOUR_EXPLOITATION", r.identified_labour),
            ("NOT_IDENTIFIED", plan.not_identified),
        ] {
            *by_outcome.entry(k.to_string()).or_insert(0) += v;
        }
    }
    by_outcome.retain(|_, v| *v > 0);
    let referrals = BTreeMap::from([
        ("PROVINCE".to_string(), by_province),
        ("OUTCOME".to_string(), by_outcome),
    ]);

    Ok(ExpectedTables {
        period_start: spec.start,
        period_end: spec.end,
        total_cases: c.total,
        new_in_period: c.new_in_period,
        continuing: c.continuing,
        cases,
        case_figures,
        referral_rows,
        referrals,
    })
}

/// Counts cases per dimension, with the same dimension names as [`ExpectedTables::cases`]
/// (`emersion_projects` are the project's provinces, for EMERSION_AREA).
pub fn case_marginals(
    cases: &[DemoCase],
    emersion_projects: &[&str],
) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut out: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let mut bump = |dim: &str, value: &str| {
        *out.entry(dim.to_string())
            .or_default()
            .entry(value.to_string())
            .or_insert(0) += 1;
    };
    for c in cases {
        bump("GENDER", c.gender);
        bump("AGE_GROUP", c.age_group);
        bump("NATIONALITY", &c.nationality);
        for e in &c.exploitation {
            bump("EXPLOITATION", e);
        }
        bump("PERMIT_AT_START", c.permit_at_start);
        bump("PERMIT_CURRENT", c.permit_current);
        bump("EMERSION_CHANNEL", c.emersion_channel);
        let area = if emersion_projects.contains(&c.emersion_province.as_str()) {
            "PROJECT"
        } else {
            "OTHER"
        };
        bump("EMERSION_AREA", area);
        bump("PHASE", c.phase);
        if let Some(o) = c.outcome {
            bump("OUTCOME", o);
        }
    }
    out
}

/// Computes the report's referral table by province from referral rows, with the definitions of
/// [`ExpectedReferralRow`] over the period `start..=end`.
pub fn referral_rows(
    referrals: &[DemoReferral],
    start: NaiveDate,
    end: NaiveDate,
) -> BTreeMap<String, ExpectedReferralRow> {
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| d >= start && d <= end);
    let mut out: BTreeMap<String, ExpectedReferralRow> = BTreeMap::new();
    for r in referrals {
        let row = out.entry(r.province.clone()).or_default();
        let received_in = within(Some(r.received_on));
        row.reported += u32::from(received_in);
        row.met += u32::from(within(r.first_interview_on));
        row.interviews += r.interviews;
        row.identified += u32::from(
            within(r.concluded_on) && r.outcome.is_some_and(|o| o.starts_with("IDENTIFIED_")),
        );
        row.adhesions += u32::from(r.programme_adhesion == Some(true));
        row.queue += u32::from(received_in && (r.status == "RECEIVED" || r.status == "SCHEDULED"));
    }
    out
}

// -------------------------------------------------------------------------------------------------
// Assignment helpers
// -------------------------------------------------------------------------------------------------

/// Preferences: key (nationality or gender) -> ordered (value, optional cap).
type Prefs = BTreeMap<String, Vec<(String, Option<u32>)>>;

fn parse_prefs(
    raw: &BTreeMap<String, Vec<String>>,
    values: &Counts,
    what: &str,
) -> Result<Prefs, String> {
    let mut out = Prefs::new();
    for (key, list) in raw {
        let mut parsed = Vec::with_capacity(list.len());
        for item in list {
            let (value, cap) = match item.split_once('*') {
                Some((v, n)) => {
                    let cap = n
                        .parse::<u32>()
                        .map_err(|_| format!("cases.toml: {what}.{key}: bad cap in {item:?}"))?;
                    (v.to_string(), Some(cap))
                }
                None => (item.clone(), None),
            };
            // A preference for a value the table does not have is a typo, not a wish.
            if !values.contains_key(&value) {
                return Err(format!(
                    "cases.toml: {what}.{key}: {value:?} is not in the table"
                ));
            }
            parsed.push((value, cap));
        }
        out.insert(key.clone(), parsed);
    }
    Ok(out)
}

/// Hands each person in `order` one value so that value v is used `counts[v]` times. A person takes
/// the first value of their preference lists (looked up by each of `keys(person)`) that is still
/// available and under its cap; otherwise the value with most left (ties: alphabetical). Returns the
/// values by person index and what is left over (non-empty only when `allow_surplus`).
fn greedy_assign(
    order: &[usize],
    counts: &Counts,
    keys: &dyn Fn(usize) -> Vec<String>,
    prefs: &Prefs,
    allow_surplus: bool,
    what: &str,
) -> Result<(Vec<String>, Counts), String> {
    let size = order.iter().copied().max().map_or(0, |m| m + 1);
    let mut out = vec![String::new(); size];
    let mut left = counts.clone();
    let mut taken: BTreeMap<(String, String), u32> = BTreeMap::new();
    for &p in order {
        let mut chosen: Option<(Option<String>, String)> = None;
        'keys: for key in keys(p) {
            if let Some(list) = prefs.get(&key) {
                for (value, cap) in list {
                    let available = left.get(value).copied().unwrap_or(0) > 0;
                    let under_cap = cap.is_none_or(|c| {
                        taken
                            .get(&(key.clone(), value.clone()))
                            .copied()
                            .unwrap_or(0)
                            < c
                    });
                    if available && under_cap {
                        chosen = Some((Some(key.clone()), value.clone()));
                        break 'keys;
                    }
                }
            }
        }
        if chosen.is_none() {
            let best = left
                .iter()
                .filter(|(_, &n)| n > 0)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(v, _)| v.clone());
            chosen = best.map(|v| (None, v));
        }
        let (key, value) =
            chosen.ok_or_else(|| format!("cases.toml: {what} has fewer entries than people"))?;
        if let Some(n) = left.get_mut(&value) {
            *n -= 1;
        }
        if let Some(key) = key {
            *taken.entry((key, value.clone())).or_insert(0) += 1;
        }
        out[p] = value;
    }
    left.retain(|_, n| *n > 0);
    if !allow_surplus && !left.is_empty() {
        return Err(format!("cases.toml: {what} has more entries than people"));
    }
    Ok((out, left))
}

/// Spreads values evenly over `n` positions (smooth weighted round-robin): each value v appears
/// exactly `counts[v]` times, as evenly interleaved as possible.
fn spread_values(counts: &Counts, n: usize, what: &str) -> Result<Vec<String>, String> {
    let total: i64 = counts.values().map(|&v| v as i64).sum();
    if total != n as i64 {
        return Err(format!("cases.toml: {what} sums to {total}, expected {n}"));
    }
    let mut current: Vec<(String, i64, i64)> = counts
        .iter()
        .filter(|(_, &w)| w > 0)
        .map(|(k, &w)| (k.clone(), w as i64, 0))
        .collect();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        for c in current.iter_mut() {
            c.2 += c.1;
        }
        let mut best = 0;
        for (i, c) in current.iter().enumerate() {
            if c.2 > current[best].2 {
                best = i;
            }
        }
        current[best].2 -= total;
        out.push(current[best].0.clone());
    }
    Ok(out)
}

/// Expands counts into a list ordered by `rank` (values not in `rank` are an error).
fn ranked_values(
    counts: &Counts,
    rank: &[&'static str],
    what: &str,
) -> Result<Vec<&'static str>, String> {
    for k in counts.keys() {
        if !rank.contains(&k.as_str()) {
            return Err(format!(
                "cases.toml: {what}: {k:?} has no place in the ranking"
            ));
        }
    }
    let mut out = Vec::new();
    for r in rank {
        out.extend(std::iter::repeat_n(
            *r,
            counts.get(*r).copied().unwrap_or(0) as usize,
        ));
    }
    Ok(out)
}

fn province_of(network: &DemoNetwork, agency: &str) -> Result<String, String> {
    network
        .agency(agency)
        .and_then(|a| a.province.clone())
        .ok_or_else(|| format!("agency {agency:?} has no province"))
}

// -------------------------------------------------------------------------------------------------
// Small utilities
// -------------------------------------------------------------------------------------------------

/// xorshift64*: enough to jitter dates; fixed seed so output is reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-enough value in `0..n` (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    let shifted = if n >= 0 {
        d.checked_add_days(Days::new(n as u64))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    };
    // Demo dates are a few years around 2022: saturating keeps this total without a panic path.
    shifted.unwrap_or(d)
}

fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    b.signed_duration_since(a).num_days()
}

/// A date in `lo..=hi` (lo if the range is empty).
fn between(lo: NaiveDate, hi: NaiveDate, rng: &mut Rng) -> NaiveDate {
    let span = days_between(lo, hi);
    if span <= 0 {
        lo
    } else {
        add_days(lo, rng.below(span as u64 + 1) as i64)
    }
}

/// The i-th of n dates spread over `from..=to`, jittered within its slice.
fn spread_date(from: NaiveDate, to: NaiveDate, i: usize, n: usize, rng: &mut Rng) -> NaiveDate {
    let span = std::cmp::max(0, days_between(from, to));
    let n = std::cmp::max(1, n) as i64;
    let step = std::cmp::max(1, span / n);
    let base = (i as i64 * span) / n;
    std::cmp::min(add_days(from, base + rng.below(step as u64) as i64), to)
}

fn digits(n: usize) -> usize {
    std::cmp::max(3, n.to_string().len())
}

fn date(s: &str, what: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("{what}: {s:?} is not a date: {e}"))?;
    // Keeps every date arithmetic above far from chrono's limits.
    if !(2000..=2100).contains(&chrono::Datelike::year(&d)) {
        return Err(format!("{what}: {s} is outside 2000-2100"));
    }
    Ok(d)
}

fn opt_date(s: Option<&str>, what: &str) -> Result<Option<NaiveDate>, String> {
    s.map(|s| date(s, what)).transpose()
}

fn intern(value: &str, allowed: &[&'static str], what: &str) -> Result<&'static str, String> {
    allowed
        .iter()
        .copied()
        .find(|a| *a == value)
        .ok_or_else(|| format!("{what}: {value:?} is not one of {allowed:?}"))
}

/// Checks a table of counts: keys allowed (when a list is given), total (when given). Returns the sum.
fn check_counts(
    counts: &Counts,
    allowed: Option<&[&'static str]>,
    total: Option<u32>,
    what: &str,
) -> Result<u32, String> {
    if let Some(allowed) = allowed {
        for k in counts.keys() {
            intern(k, allowed, &format!("cases.toml: {what}"))?;
        }
    }
    let sum: u32 = counts.values().sum();
    if let Some(t) = total {
        if sum != t {
            return Err(format!("cases.toml: {what} sums to {sum}, expected {t}"));
        }
    }
    Ok(sum)
}

fn check_slug(id: &str, what: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: id must be a lowercase slug"))
    }
}

fn check_kind_word(kind: &str, what: &str) -> Result<(), String> {
    if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        Ok(())
    } else {
        Err(format!("{what}: {kind:?} must be UPPER_SNAKE_CASE"))
    }
}

fn check_province(p: &str, what: &str) -> Result<(), String> {
    if p.len() == 2 && p.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("{what}: province {p:?} is not a two-letter sigla"))
    }
}

fn check_country(code: &str, what: &str) -> Result<(), String> {
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "{what}: {code:?} is not an ISO 3166-1 alpha-2 code"
        ))
    }
}

fn check_distinct(ids: &[String], what: &str) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("{what}: {id:?} listed twice"));
        }
    }
    Ok(())
}

/// Only a body's generic mailbox may appear: no "name.surname@" style local part.
fn check_generic_mailbox(contact: &str, what: &str) -> Result<(), String> {
    match contact.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !local.contains('.') && domain.contains('.') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{what}: public_contact {contact:?} is not a generic mailbox"
        )),
    }
}

// -------------------------------------------------------------------------------------------------
// Tests
// -------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK: &str = include_str!("../../demo/network.toml");
    const CASES: &str = include_str!("../../demo/cases.toml");
    const PROJECT_PROVINCES: &[&str] = &["BG", "BS", "CR", "LC", "LO", "MN", "PV"];

    fn net() -> DemoNetwork {
        network(NETWORK).expect("network.toml loads")
    }

    #[test]
    fn network_is_large_and_consistent() {
        let n = net();
        assert!(n.agencies.len() >= 60, "only {} agencies", n.agencies.len());
        let ids: BTreeSet<&str> = n.agencies.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), n.agencies.len(), "agency ids are unique");
        for a in &n.agencies {
            assert!(AGENCY_KINDS.contains(&a.kind), "{} kind {}", a.id, a.kind);
            assert!(
                a.referral_contact.is_none(),
                "{}: no operational contacts in the demo",
                a.id
            );
        }
        let known = |id: &str| ids.contains(id);
        for g in &n.networks {
            assert!(g.lead.as_deref().is_none_or(known), "{}", g.id);
            assert!(g.members.iter().all(|m| known(m)), "{}", g.id);
        }
        for p in &n.protocols {
            assert!(p.signatories.iter().all(|s| known(s)), "{}", p.id);
        }
        for c in &n.collaborations {
            assert!(known(&c.from) && known(&c.to), "{}", c.id);
        }
        for p in &n.projects {
            assert!(
                known(&p.coordinator) && p.enti.iter().all(|e| known(e)),
                "{}",
                p.id
            );
        }
        for s in &n.shelters {
            assert!(known(&s.owner), "{}", s.id);
            assert!(
                s.address.contains("(demo)") && s.name.contains("(demo)"),
                "{}",
                s.id
            );
        }
        assert!(
            n.collaborations.len() >= 80,
            "only {} collaborations",
            n.collaborations.len()
        );
        let ids: BTreeSet<&str> = n.collaborations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), n.collaborations.len());
        // Every kind is represented in Lombardia 2, and the enti the brief lists are there.
        for kind in AGENCY_KINDS {
            assert!(
                n.agencies.iter().any(|a| a.kind == *kind),
                "no agency of kind {kind}"
            );
        }
        for id in [
            "micaela-bg",
            "betel-bs",
            "lotta-bs",
            "farsi-prossimo-mi",
            "ct-brescia",
            "ct-milano",
            "numero-verde",
            "dpo",
        ] {
            assert!(n.agency(id).is_some(), "missing {id}");
        }
        for prov in PROJECT_PROVINCES {
            for kind in ["PREFETTURA", "QUESTURA", "ENTE_ANTITRATTA"] {
                assert!(
                    n.agencies
                        .iter()
                        .any(|a| a.kind == kind && a.province.as_deref() == Some(*prov)),
                    "no {kind} in {prov}"
                );
            }
        }
    }

    #[test]
    fn turin_protocol_has_its_eleven_signatories() {
        let n = net();
        let p = n
            .protocols
            .iter()
            .find(|p| p.id == "protocollo-torino-2022")
            .expect("protocol");
        assert_eq!(p.signed_on, NaiveDate::from_ymd_opt(2022, 3, 3));
        assert_eq!(p.signatories.len(), 11);
    }

    #[test]
    fn project_indicators_are_loaded() {
        let n = net();
        let p = n.project("mettiamo-le-ali").expect("project");
        assert_eq!(p.starts_on, NaiveDate::from_ymd_opt(2022, 10, 1));
        let persons = p
            .indicators
            .iter()
            .find(|i| i.key == "persone_in_assistenza")
            .expect("indicator");
        assert_eq!((persons.expected, persons.achieved), (106, Some(77)));
        assert!(p.indicators.len() >= 20);
    }

    #[test]
    fn cases_match_every_marginal_of_the_report() {
        let n = net();
        let cases = cases(&n, CASES).expect("cases");
        let exp = expected(CASES).expect("expected");
        assert_eq!(cases.len() as u32, exp.total_cases);
        assert_eq!(
            cases.iter().filter(|c| c.new_in_period).count() as u32,
            exp.new_in_period
        );
        let got = case_marginals(&cases, PROJECT_PROVINCES);
        assert_eq!(got, exp.cases);
        let pregnant = cases.iter().filter(|c| c.pregnant).count() as u32;
        let minors: u32 = cases.iter().map(|c| c.accompanying_minors).sum();
        let complaints = cases.iter().filter(|c| c.complaint_filed).count() as u32;
        assert_eq!(exp.case_figures["PREGNANT"], pregnant);
        assert_eq!(exp.case_figures["ACCOMPANYING_MINORS"], minors);
        assert_eq!(exp.case_figures["COMPLAINTS_FILED"], complaints);
        // The report's figures themselves, as transcribed.
        assert_eq!(exp.cases["GENDER"]["FEMALE"], 58);
        assert_eq!(exp.cases["NATIONALITY"]["NG"], 54);
        assert_eq!(exp.cases["EXPLOITATION"].values().sum::<u32>(), 79);
        assert_eq!(exp.cases["OUTCOME"].values().sum::<u32>(), 22);
        assert_eq!(exp.cases["EMERSION_AREA"]["OTHER"], 14);
    }

    #[test]
    fn cases_are_plausible() {
        let n = net();
        let exp = expected(CASES).expect("expected");
        let cases = cases(&n, CASES).expect("cases");
        let codes: BTreeSet<&str> = cases.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.len(), cases.len());
        let project = n.project("mettiamo-le-ali").expect("project");
        for c in &cases {
            let owner = n.agency(&c.owner).expect("owner");
            assert_eq!(owner.kind, "ENTE_ANTITRATTA");
            assert!(project.enti.contains(&c.owner));
            assert_eq!(owner.province.as_deref(), Some(c.province.as_str()));
            assert!(c.opened_on <= exp.period_end);
            if c.new_in_period {
                assert!(c.opened_on >= exp.period_start, "{}", c.code);
            } else {
                assert!(c.opened_on < exp.period_start, "{}", c.code);
            }
            assert_eq!(c.phase == "CLOSED", c.outcome.is_some(), "{}", c.code);
            assert_eq!(c.closed_on, c.outcome_on);
            if let Some(d) = c.closed_on {
                assert!(
                    d >= exp.period_start && d <= exp.period_end && d > c.opened_on,
                    "{}",
                    c.code
                );
            }
            if let Some(s) = &c.shelter {
                let shelter = n.shelters.iter().find(|x| &x.id == s).expect("shelter");
                assert_eq!(shelter.owner, c.owner);
                assert!(RESIDENTIAL_PHASES.contains(&c.phase));
            }
            if let Some(d) = c.complaint_filed_on {
                assert!(d >= c.opened_on && d <= exp.period_end);
            }
            assert!(!c.exploitation.is_empty() && c.exploitation.len() <= 2);
            let distinct: BTreeSet<&&str> = c.exploitation.iter().collect();
            assert_eq!(distinct.len(), c.exploitation.len());
            assert!(c.alias.starts_with("Persona "));
            if c.pregnant || c.accompanying_minors > 0 {
                assert_eq!(c.gender, "FEMALE");
            }
        }
        // Women-only reception stays women-only.
        for c in cases
            .iter()
            .filter(|c| c.owner == "micaela-bg" || c.owner == "betel-bs")
        {
            assert_eq!(c.gender, "FEMALE", "{}", c.code);
        }
    }

    #[test]
    fn referrals_match_the_report_table() {
        let n = net();
        let exp = expected(CASES).expect("expected");
        let refs = referrals(&n, CASES).expect("referrals");
        let rows = referral_rows(&refs, exp.period_start, exp.period_end);
        assert_eq!(rows, exp.referral_rows);
        let in_period: Vec<&DemoReferral> = refs.iter().filter(|r| !r.carried_over).collect();
        assert_eq!(in_period.len(), 81);
        let mut by_province: BTreeMap<String, u32> = BTreeMap::new();
        for r in &in_period {
            *by_province.entry(r.province.clone()).or_insert(0) += 1;
        }
        assert_eq!(by_province, exp.referrals["PROVINCE"]);
        let mut by_outcome: BTreeMap<String, u32> = BTreeMap::new();
        for r in refs
            .iter()
            .filter(|r| r.concluded_on.is_some_and(|d| d >= exp.period_start))
        {
            if let Some(o) = r.outcome {
                *by_outcome.entry(o.to_string()).or_insert(0) += 1;
            }
        }
        assert_eq!(by_outcome, exp.referrals["OUTCOME"]);
        // Summary totals as printed, except the interviews (rows sum to 171, the report prints 172).
        let total =
            rows.values()
                .fold(ExpectedReferralRow::default(), |a, r| ExpectedReferralRow {
                    reported: a.reported + r.reported,
                    met: a.met + r.met,
                    interviews: a.interviews + r.interviews,
                    identified: a.identified + r.identified,
                    adhesions: a.adhesions + r.adhesions,
                    queue: a.queue + r.queue,
                });
        assert_eq!(
            (
                total.reported,
                total.met,
                total.interviews,
                total.identified,
                total.adhesions,
                total.queue
            ),
            (81, 64, 171, 63, 3, 30)
        );
    }

    #[test]
    fn referrals_are_plausible() {
        let n = net();
        let exp = expected(CASES).expect("expected");
        let refs = referrals(&n, CASES).expect("referrals");
        let codes: BTreeSet<&str> = refs.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes.len(), refs.len());
        let mut from_commission = 0;
        for r in &refs {
            let target = n.agency(&r.target).expect("target");
            assert_eq!(target.kind, "ENTE_ANTITRATTA");
            assert_eq!(target.province.as_deref(), Some(r.province.as_str()));
            let requester = n.agency(&r.requested_by).expect("requester");
            assert!(REQUESTER_KINDS.contains(&requester.kind), "{}", r.code);
            if requester.kind == "COMMISSIONE_TERRITORIALE" {
                from_commission += 1;
            }
            assert!(REFERRAL_STATUSES.contains(&r.status));
            assert_eq!(
                r.carried_over,
                r.received_on < exp.period_start,
                "{}",
                r.code
            );
            assert!(r.received_on <= exp.period_end);
            assert_eq!(
                r.status == "CONCLUDED",
                r.concluded_on.is_some(),
                "{}",
                r.code
            );
            assert_eq!(r.status == "CONCLUDED", r.outcome.is_some(), "{}", r.code);
            assert_eq!(
                r.status == "CONCLUDED",
                r.programme_adhesion.is_some(),
                "{}",
                r.code
            );
            if let Some(d) = r.concluded_on {
                assert!(d >= r.received_on && d <= exp.period_end, "{}", r.code);
                assert!(r.first_interview_on.is_some_and(|f| f <= d), "{}", r.code);
            }
            if let Some(f) = r.first_interview_on {
                assert!(f >= r.received_on, "{}", r.code);
            }
            if r.programme_adhesion == Some(true) {
                assert!(r.outcome.is_some_and(|o| o.starts_with("IDENTIFIED_")));
            }
            match r.status {
                "RECEIVED" | "SCHEDULED" | "UNREACHABLE" => {
                    assert_eq!(r.interviews_held(), 0, "{}", r.code)
                }
                _ => assert!(r.interviews >= 1, "{}", r.code),
            }
        }
        // "Il numero maggiore di richieste di Referral arriva da parte della Commissione Territoriale".
        assert!(
            from_commission * 2 > refs.len(),
            "{from_commission} of {}",
            refs.len()
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let n1 = net();
        let n2 = net();
        assert_eq!(n1, n2);
        assert_eq!(
            cases(&n1, CASES).expect("cases"),
            cases(&n2, CASES).expect("cases")
        );
        assert_eq!(
            referrals(&n1, CASES).expect("referrals"),
            referrals(&n2, CASES).expect("referrals")
        );
        assert_eq!(
            expected(CASES).expect("expected"),
            expected(CASES).expect("expected")
        );
    }

    #[test]
    fn no_personal_contact_data() {
        let n = net();
        for a in &n.agencies {
            if let Some(c) = &a.public_contact {
                let local = c.split('@').next().unwrap_or_default();
                assert!(!local.contains('.'), "{}: {c}", a.id);
            }
        }
        // Nothing but generic mailboxes in the data files.
        for text in [NETWORK, CASES] {
            for word in text.split(|c: char| c.is_whitespace() || c == '"') {
                if let Some((local, _)) = word.split_once('@') {
                    assert!(!local.contains('.'), "personal-looking address {word}");
                }
            }
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(network("agency = 3").is_err());
        let bad_kind = NETWORK.replacen("kind = \"COORDINAMENTO\"", "kind = \"MINISTERO\"", 1);
        assert!(network(&bad_kind).unwrap_err().contains("MINISTERO"));
        let dangling = NETWORK.replacen(
            "members = [\"cav-terre-unite-bs\"]",
            "members = [\"nobody\"]",
            1,
        );
        assert!(network(&dangling).unwrap_err().contains("nobody"));
        let n = net();
        let short = CASES.replacen("FEMALE = 58", "FEMALE = 57", 1);
        assert!(cases(&n, &short).unwrap_err().contains("cases.gender"));
        let bad_enum = CASES.replacen("AUTONOMY = 13", "AUTONOMIA = 13", 1);
        assert!(expected(&bad_enum).is_err());
        let bad_sources = CASES.replacen(
            "count = 7, agencies = [\"ct-brescia\"]",
            "count = 6, agencies = [\"ct-brescia\"]",
            1,
        );
        assert!(referrals(&n, &bad_sources).unwrap_err().contains("sources"));
    }
}
