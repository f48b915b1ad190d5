//! Access control, checked through the public API against the protocol itself.
//!
//! Correct access control is the product: a leak can endanger a person. These tests build real
//! situations the way partners do (the platform admin registers agencies; an ente opens a case with
//! every field filled, writes in its diary, records the person's consents and shares the case; a
//! coordinator requests a transfer) and then ask the hub, as every kind of agency and every role,
//! for every field. The expectations are the tables of `../shared/protocol/ACCESS.md` copied here
//! **by hand** (§1 kinds and roles, §2 classes, §3 purposes and recipients, §4 reading, §5
//! changing), never taken from the policy crate: the document, the policy the hub loads and these
//! tests are checked against each other.
//!
//! Here: the §4 read matrix (10 kinds × 4 roles × 7 relationships, every field, by id and in
//! lists, a hidden case answering exactly like an id never used), the case diary, filters, the §5
//! change matrix, the §9 access log and the §7 statistics. Consents, shares, emergencies and
//! transfers are in `sharing.rs`; referrals in `referrals.rs`. The table-driven tests collect every
//! mismatch before failing, so one run reports all of them.

use std::collections::{BTreeMap, BTreeSet};

use raccordo_policies::UserRole;
use serde_json::{json, Map, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

// =================================================================================================
// The protocol's tables, copied by hand from ACCESS.md
// =================================================================================================

/// §1: every agency kind.
pub(crate) const KINDS: [&str; 10] = [
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

/// §1: every user role.
pub(crate) const ROLES: [UserRole; 4] = [
    UserRole::Operator,
    UserRole::Coordinator,
    UserRole::Analyst,
    UserRole::PlatformAdmin,
];

/// §1: only OPERATOR and COORDINATOR users get case or referral rows (and change anything).
pub(crate) fn gets_rows(role: UserRole) -> bool {
    matches!(role, UserRole::Operator | UserRole::Coordinator)
}

/// §3: how a viewer's agency relates to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rel {
    Owner,
    Joint,
    Permit,
    Transfer,
    Service,
    Judicial,
    None,
}

impl Rel {
    pub(crate) const ALL: [Rel; 7] = [
        Rel::Owner,
        Rel::Joint,
        Rel::Permit,
        Rel::Transfer,
        Rel::Service,
        Rel::Judicial,
        Rel::None,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Rel::Owner => "OWNER",
            Rel::Joint => "JOINT",
            Rel::Permit => "PERMIT",
            Rel::Transfer => "TRANSFER",
            Rel::Service => "SERVICE",
            Rel::Judicial => "JUDICIAL",
            Rel::None => "NONE",
        }
    }

    /// §3: the purpose that gives this relationship, and the kinds that may receive it.
    pub(crate) fn purpose(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Rel::Joint => Some((
                "JOINT_MANAGEMENT",
                &["ENTE_ANTITRATTA", "CENTRO_ANTIVIOLENZA"],
            )),
            Rel::Permit => Some(("PERMIT_PROCEDURE", &["QUESTURA"])),
            Rel::Transfer => Some(("TRANSFER", &["ENTE_ANTITRATTA"])),
            Rel::Service => Some(("SERVICE_REFERRAL", &["SERVIZI_TERRITORIALI"])),
            Rel::Judicial => Some(("JUDICIAL_COOPERATION", &["FORZE_ORDINE", "PROCURA"])),
            Rel::Owner | Rel::None => None,
        }
    }

    /// Whether an agency of `kind` can have this relationship at all (§1: enti hold the cases;
    /// §3: each purpose goes to its recipient kinds only).
    pub(crate) fn possible_for(self, kind: &str) -> bool {
        match self {
            Rel::Owner => kind == "ENTE_ANTITRATTA",
            Rel::None => true,
            _ => self
                .purpose()
                .is_some_and(|(_, kinds)| kinds.contains(&kind)),
        }
    }

    /// The column of the §4 table.
    fn column(self) -> Option<usize> {
        match self {
            Rel::Owner => Some(0),
            Rel::Joint => Some(1),
            Rel::Permit => Some(2),
            Rel::Transfer => Some(3),
            Rel::Service => Some(4),
            Rel::Judicial => Some(5),
            Rel::None => None,
        }
    }
}

const Y: bool = true;
const N: bool = false;

/// §4, columns OWNER, JOINT, PERMIT, TRANSFER, SERVICE, JUDICIAL. For NOTES the OWNER reads every
/// note and JOINT the notes its own agency wrote and those the owner marked shared with joint
/// partners (see [`expected_view`]).
pub(crate) const READ: [(&str, [bool; 6]); 10] = [
    ("BASE", [Y, Y, Y, Y, Y, Y]),
    ("PROFILE", [Y, Y, N, Y, Y, Y]),
    ("IDENTITY", [Y, Y, Y, Y, Y, Y]),
    ("LOCATION", [Y, N, N, N, N, N]),
    ("LEGAL", [Y, Y, Y, Y, N, N]),
    ("JUDICIAL", [Y, N, N, Y, N, Y]),
    ("HEALTH", [Y, N, N, Y, Y, N]),
    ("GBV", [Y, Y, N, N, N, N]),
    ("PATHWAY", [Y, Y, N, Y, N, N]),
    ("NOTES", [Y, Y, N, N, N, N]),
];

/// Whether `rel` reads `class` (§4).
pub(crate) fn reads(rel: Rel, class: &str) -> bool {
    let Some(col) = rel.column() else {
        return false;
    };
    READ.iter()
        .find(|(c, _)| *c == class)
        .unwrap_or_else(|| panic!("{class} is not a class of ACCESS.md §2"))
        .1[col]
}

/// §2: every field of a case, its class, and how these tests select it.
pub(crate) const CASE_FIELDS: [(&str, &str, &str); 37] = [
    ("id", "BASE", "id"),
    ("code", "BASE", "code"),
    ("owner", "BASE", "owner { id }"),
    ("project", "BASE", "project { id }"),
    ("phase", "BASE", "phase"),
    ("openedOn", "BASE", "openedOn"),
    ("closedOn", "BASE", "closedOn"),
    ("version", "BASE", "version"),
    ("access", "BASE", "access { relationships visibleClasses }"),
    ("gender", "PROFILE", "gender"),
    ("ageGroup", "PROFILE", "ageGroup"),
    ("nationality", "PROFILE", "nationality"),
    ("exploitation", "PROFILE", "exploitation"),
    ("emersionChannel", "PROFILE", "emersionChannel"),
    ("emersionProvince", "PROFILE", "emersionProvince"),
    ("accompanyingMinors", "PROFILE", "accompanyingMinors"),
    ("pregnant", "PROFILE", "pregnant"),
    ("alias", "IDENTITY", "alias"),
    ("legalName", "IDENTITY", "legalName"),
    ("birthDate", "IDENTITY", "birthDate"),
    ("phone", "IDENTITY", "phone"),
    ("shelter", "LOCATION", "shelter { id name address city }"),
    ("permitAtStart", "LEGAL", "permitAtStart"),
    ("permitCurrent", "LEGAL", "permitCurrent"),
    ("permitExpiresOn", "LEGAL", "permitExpiresOn"),
    ("asylumStatus", "LEGAL", "asylumStatus"),
    ("complaintFiled", "JUDICIAL", "complaintFiled"),
    ("complaintFiledOn", "JUDICIAL", "complaintFiledOn"),
    ("healthNotes", "HEALTH", "healthNotes"),
    ("psychSupport", "HEALTH", "psychSupport"),
    ("gbvIndicators", "GBV", "gbvIndicators"),
    ("gbvRiskLevel", "GBV", "gbvRiskLevel"),
    (
        "activities",
        "PATHWAY",
        "activities { id kind detail startedOn endedOn }",
    ),
    ("outcome", "PATHWAY", "outcome"),
    ("outcomeOn", "PATHWAY", "outcomeOn"),
    (
        "history",
        "PATHWAY",
        "history { at from to by { id } reason }",
    ),
    (
        "notes",
        "NOTES",
        "notes { id author { id } writtenAt text sharedWithJointPartners }",
    ),
];

/// §2 for the fields a `CasePatch` changes (`shelterId` is the LOCATION class; `code`, the
/// owner's own code for the case, is BASE: issue 12).
const PATCH_FIELDS: [(&str, &str); 25] = [
    ("code", "BASE"),
    ("phase", "BASE"),
    ("nationality", "PROFILE"),
    ("gender", "PROFILE"),
    ("ageGroup", "PROFILE"),
    ("exploitation", "PROFILE"),
    ("emersionChannel", "PROFILE"),
    ("emersionProvince", "PROFILE"),
    ("accompanyingMinors", "PROFILE"),
    ("pregnant", "PROFILE"),
    ("alias", "IDENTITY"),
    ("legalName", "IDENTITY"),
    ("birthDate", "IDENTITY"),
    ("phone", "IDENTITY"),
    ("shelterId", "LOCATION"),
    ("permitAtStart", "LEGAL"),
    ("permitCurrent", "LEGAL"),
    ("permitExpiresOn", "LEGAL"),
    ("asylumStatus", "LEGAL"),
    ("complaintFiled", "JUDICIAL"),
    ("complaintFiledOn", "JUDICIAL"),
    ("healthNotes", "HEALTH"),
    ("psychSupport", "HEALTH"),
    ("gbvIndicators", "GBV"),
    ("gbvRiskLevel", "GBV"),
];

// =================================================================================================
// Requests
// =================================================================================================

/// An id no record ever had.
pub(crate) const NEVER: &str = "00000000-0000-0000-0000-000000000000";
/// The day the person gives their consents.
pub(crate) const GIVEN_ON: &str = "2023-01-15";
/// The secret address of every shelter these tests register.
pub(crate) const SHELTER_ADDRESS: &str = "Via Riservata 7";

pub(crate) const CREATE_CASE: &str =
    "mutation($i: CaseInput!) { createCase(input: $i) { id version } }";
pub(crate) const UPDATE: &str = "mutation($id: ID!, $v: Int!, $p: CasePatch!) { updateCase(id: $id, version: $v, patch: $p) { version } }";
pub(crate) const CLOSE: &str = "mutation($id: ID!, $v: Int!) { closeCase(id: $id, version: $v, outcome: AUTONOMY, on: \"2023-06-30\") { version } }";
pub(crate) const REOPEN: &str = "mutation($id: ID!, $v: Int!) { reopenCase(id: $id, version: $v, phase: PRIMA_ACCOGLIENZA, reason: \"ripresa del percorso\") { version } }";
pub(crate) const NOTE: &str = "mutation($c: ID!, $t: String!, $s: Boolean) { addCaseNote(caseId: $c, text: $t, sharedWithJointPartners: $s) { id author { id } } }";
pub(crate) const ACTIVITY: &str = "mutation($c: ID!) { addActivity(caseId: $c, kind: \"VOCATIONAL_COURSE\", detail: \"corso OSS\", startedOn: \"2023-02-01\") { id } }";
pub(crate) const CONSENT: &str = "mutation($c: ID!, $p: SharePurpose!, $r: ID!, $g: Date!, $e: Date) { recordConsent(caseId: $c, purpose: $p, recipient: $r, givenOn: $g, expiresOn: $e) { id revokedOn } }";
pub(crate) const REVOKE_CONSENT: &str =
    "mutation($id: ID!, $on: Date!) { revokeConsent(id: $id, on: $on) { id revokedOn } }";
pub(crate) const SHARE: &str = "mutation($c: ID!, $r: ID!, $p: SharePurpose!, $k: ID, $why: String, $e: Date) { shareCase(caseId: $c, recipient: $r, purpose: $p, consentId: $k, emergencyReason: $why, expiresOn: $e) { id purpose emergency emergencyReason expiresAt active } }";
pub(crate) const REVOKE_SHARE: &str = "mutation($id: ID!) { revokeShare(id: $id) { id active } }";
pub(crate) const TRANSFER: &str = "mutation($c: ID!, $to: ID!, $k: ID!) { requestTransfer(caseId: $c, to: $to, consentId: $k) { id status } }";
pub(crate) const ACCEPT: &str = "mutation($id: ID!) { acceptTransfer(id: $id) { id status } }";
pub(crate) const REJECT: &str = "mutation($id: ID!) { rejectTransfer(id: $id) { id status } }";
pub(crate) const ACCESS_LOG: &str = "query($c: ID!) { caseAccessLog(caseId: $c) { at userId agency { id } role operation relationships classes detail } }";

/// Today in the hub's clock: the date in Italy, as the hub reads it (between 23:00 and 24:00
/// UTC it is already tomorrow there).
pub(crate) fn today() -> String {
    raccordo_api::access::local_date(chrono::Utc::now()).to_string()
}

/// The selection of every field of a case.
pub(crate) fn case_selection() -> String {
    CASE_FIELDS
        .iter()
        .map(|(_, _, s)| *s)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `case(id)` asking for every field; the whole response.
pub(crate) async fn view(hub: &TestHub, token: &str, id: &str) -> Value {
    let q = format!(
        "query($id: ID!) {{ case(id: $id) {{ {} }} }}",
        case_selection()
    );
    hub.gql(Some(token), &q, json!({ "id": id })).await
}

/// A federation gateway's entity look-up of one case, asking for every field; the whole response.
pub(crate) async fn entity_view(hub: &TestHub, token: &str, id: &str) -> Value {
    let q = format!(
        "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Case {{ {} }} }} }}",
        case_selection()
    );
    hub.gql(
        Some(token),
        &q,
        json!({ "r": [{ "__typename": "Case", "id": id }] }),
    )
    .await
}

/// What a response says: its data under `key`, and its error codes.
fn answer_of(response: &Value, data: &Value) -> (Value, Vec<Value>) {
    let codes = response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].clone())
                .collect()
        })
        .unwrap_or_default();
    (normalized(data), codes)
}

/// `cases` asking for every field of every case; the whole response.
pub(crate) async fn list(hub: &TestHub, token: &str) -> Value {
    let q = format!(
        "{{ cases(first: 100) {{ totalCount edges {{ node {{ {} }} }} }} }}",
        case_selection()
    );
    hub.gql(Some(token), &q, json!({})).await
}

/// Asserts that `resp` failed with `expected` as `extensions.code`.
pub(crate) fn expect_code(resp: &Value, expected: &str, what: &str) {
    assert_eq!(code(resp).as_deref(), Some(expected), "{what}: {resp}");
}

/// The `id` of the object a mutation returned.
pub(crate) fn id_of(data: &Value, field: &str) -> String {
    data[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} id in {data}"))
        .to_string()
}

/// A case object with its unordered lists sorted, to compare as values.
pub(crate) fn normalized(case: &Value) -> Value {
    fn sort(v: Option<&mut Value>) {
        if let Some(Value::Array(items)) = v {
            items.sort_by_key(|i| i.to_string());
        }
    }
    let mut c = case.clone();
    sort(c.get_mut("exploitation"));
    if let Some(access) = c.get_mut("access") {
        sort(access.get_mut("relationships"));
        sort(access.get_mut("visibleClasses"));
    }
    c
}

/// What a viewer of `viewer_agency` with relationship `rel` must read of a case, per §4, given
/// the owner's own view of it.
pub(crate) fn expected_view(reference: &Value, rel: Rel, viewer_agency: &str) -> Value {
    let mut out = Map::new();
    for (field, class, _) in CASE_FIELDS {
        let value = if field == "access" {
            let classes: Vec<&str> = READ
                .iter()
                .filter(|(c, _)| reads(rel, c))
                .map(|(c, _)| *c)
                .collect();
            json!({ "relationships": [rel.name()], "visibleClasses": classes })
        } else if !reads(rel, class) {
            Value::Null
        } else if field == "notes" && rel != Rel::Owner {
            // §4 NOTES for JOINT: its own agency's notes and those the owner shared.
            let notes = reference["notes"]
                .as_array()
                .expect("the owner reads notes");
            Value::Array(
                notes
                    .iter()
                    .filter(|n| {
                        n["sharedWithJointPartners"] == true || n["author"]["id"] == viewer_agency
                    })
                    .cloned()
                    .collect(),
            )
        } else {
            reference[field].clone()
        };
        out.insert(field.to_string(), value);
    }
    normalized(&Value::Object(out))
}

/// The platform admin registers a project coordinated by `coordinator` with `enti`.
pub(crate) async fn project(hub: &TestHub, coordinator: &str, enti: &[&str]) -> String {
    let d = hub
        .ok(
            &hub.admin(),
            "mutation($c: ID!, $e: [ID!]!) { createProject(name: \"Progetto Ali\", coordinator: $c, enti: $e, startsOn: \"2022-01-01\") { id } }",
            json!({ "c": coordinator, "e": enti }),
        )
        .await;
    id_of(&d, "createProject")
}

/// An ente registers one of its protected shelters.
pub(crate) async fn shelter(hub: &TestHub, agency: &str, name: &str) -> String {
    let d = hub
        .ok(
            &hub.token(Some(agency), UserRole::Operator),
            "mutation($n: String!, $a: String) { createShelter(name: $n, address: $a, city: \"Bergamo\", province: \"BG\") { id } }",
            json!({ "n": name, "a": SHELTER_ADDRESS }),
        )
        .await;
    id_of(&d, "createShelter")
}

/// A case input with every field filled; the texts carry `code` so that each case is unique.
pub(crate) fn full_input(code: &str, shelter: &str, project: &str) -> Value {
    json!({
        "code": code,
        "phase": "PRONTO_INTERVENTO",
        "openedOn": "2023-01-10",
        "projectId": project,
        "gender": "FEMALE",
        "ageGroup": "ADULT",
        "nationality": "NG",
        "exploitation": ["SEXUAL_STREET"],
        "emersionChannel": "OUTREACH_UNIT",
        "emersionProvince": "BG",
        "accompanyingMinors": 1,
        "pregnant": true,
        "alias": format!("Alias {code}"),
        "legalName": format!("Nome Legale {code}"),
        "birthDate": "1999-04-02",
        "phone": "+39 333 0000001",
        "shelterId": shelter,
        "permitAtStart": "INTERNATIONAL_PROTECTION_REQUEST",
        "permitCurrent": "ART18",
        "permitExpiresOn": "2025-04-30",
        "asylumStatus": format!("Asilo {code}"),
        "complaintFiled": true,
        "complaintFiledOn": "2023-02-01",
        "healthNotes": format!("Salute {code}"),
        "psychSupport": format!("Supporto {code}"),
        "gbvIndicators": [format!("Indicatore {code}")],
        "gbvRiskLevel": format!("Rischio {code}"),
    })
}

/// The case's current version and phase, read (BASE only) by the owner's operator.
pub(crate) async fn version(hub: &TestHub, owner: &str, id: &str) -> (i64, String) {
    let t = hub.token(Some(owner), UserRole::Operator);
    let d = hub
        .ok(
            &t,
            "query($id: ID!) { case(id: $id) { version phase } }",
            json!({ "id": id }),
        )
        .await;
    (
        d["case"]["version"].as_i64().expect("a version"),
        d["case"]["phase"].as_str().expect("a phase").to_string(),
    )
}

/// Opens a case of `owner` with every field filled, an activity, a note shared with joint
/// partners, a note that is not, and a phase change; `close` also closes it with an outcome.
/// Returns its id and the input it was made from.
pub(crate) async fn full_case(
    hub: &TestHub,
    owner: &str,
    shelter: &str,
    project: &str,
    code: &str,
    close: bool,
) -> (String, Value) {
    let op = hub.token(Some(owner), UserRole::Operator);
    let coord = hub.token(Some(owner), UserRole::Coordinator);
    let input = full_input(code, shelter, project);
    let id = id_of(
        &hub.ok(&op, CREATE_CASE, json!({ "i": input })).await,
        "createCase",
    );
    hub.ok(&op, ACTIVITY, json!({ "c": id })).await;
    hub.ok(
        &coord,
        NOTE,
        json!({ "c": id, "t": format!("Nota condivisa {code}"), "s": true }),
    )
    .await;
    hub.ok(
        &op,
        NOTE,
        json!({ "c": id, "t": format!("Nota riservata {code}"), "s": false }),
    )
    .await;
    let (v, _) = version(hub, owner, &id).await;
    hub.ok(
        &op,
        UPDATE,
        json!({ "id": id, "v": v, "p": { "phase": "PRIMA_ACCOGLIENZA" } }),
    )
    .await;
    if close {
        let (v, _) = version(hub, owner, &id).await;
        hub.ok(&op, CLOSE, json!({ "id": id, "v": v })).await;
    }
    (id, input)
}

/// Checks the owner's own view of a case made by [`full_case`] against its input: every field is
/// there with the value written.
pub(crate) fn check_owner_view(case: &Value, input: &Value, owner: &str, closed: bool) {
    for (field, _, _) in CASE_FIELDS {
        if !closed && matches!(field, "closedOn" | "outcome" | "outcomeOn") {
            continue;
        }
        assert!(!case[field].is_null(), "the owner reads {field}: {case}");
    }
    for (k, v) in input.as_object().expect("an input object") {
        match k.as_str() {
            "shelterId" => assert_eq!(case["shelter"]["id"], *v, "shelter"),
            "projectId" => assert_eq!(case["project"]["id"], *v, "project"),
            "phase" => {}
            _ => assert_eq!(case[k], *v, "{k} as written"),
        }
    }
    assert_eq!(case["owner"]["id"], owner);
    assert_eq!(case["shelter"]["address"], SHELTER_ADDRESS);
    assert_eq!(case["notes"].as_array().map(Vec::len), Some(2));
    assert_eq!(case["activities"].as_array().map(Vec::len), Some(1));
    if closed {
        assert_eq!(case["outcome"], "AUTONOMY");
        assert_eq!(case["closedOn"], "2023-06-30");
        assert_eq!(case["history"].as_array().map(Vec::len), Some(3));
    }
}

/// The person's consent, recorded by `token`'s user; its id.
pub(crate) async fn consent(
    hub: &TestHub,
    token: &str,
    case: &str,
    purpose: &str,
    recipient: &str,
) -> String {
    let d = hub
        .ok(
            token,
            CONSENT,
            json!({ "c": case, "p": purpose, "r": recipient, "g": GIVEN_ON }),
        )
        .await;
    id_of(&d, "recordConsent")
}

/// A share resting on `consent`, made by `token`'s user; its id.
pub(crate) async fn share(
    hub: &TestHub,
    token: &str,
    case: &str,
    recipient: &str,
    purpose: &str,
    consent: &str,
) -> String {
    let d = hub
        .ok(
            token,
            SHARE,
            json!({ "c": case, "r": recipient, "p": purpose, "k": consent }),
        )
        .await;
    assert_eq!(d["shareCase"]["active"], true, "a new share is active: {d}");
    assert_eq!(d["shareCase"]["emergency"], false);
    id_of(&d, "shareCase")
}

/// Gives `recipient` the relationship `rel` to `case` the way the protocol says (§3): the owner's
/// coordinator records the consent, then shares or requests the transfer. Returns the consent and
/// the share or transfer.
pub(crate) async fn give(
    hub: &TestHub,
    owner: &str,
    case: &str,
    rel: Rel,
    recipient: &str,
) -> (String, String) {
    let coord = hub.token(Some(owner), UserRole::Coordinator);
    let (purpose, _) = rel.purpose().expect("a relationship given by a purpose");
    let c = consent(hub, &coord, case, purpose, recipient).await;
    let made = if rel == Rel::Transfer {
        let d = hub
            .ok(
                &coord,
                TRANSFER,
                json!({ "c": case, "to": recipient, "k": c }),
            )
            .await;
        assert_eq!(d["requestTransfer"]["status"], "REQUESTED");
        id_of(&d, "requestTransfer")
    } else {
        share(hub, &coord, case, recipient, purpose, &c).await
    };
    (c, made)
}

// =================================================================================================
// §2 and §4: the read matrix
// =================================================================================================

/// The agencies of the read and change matrices: one ente holding the cases, one agency of every
/// kind, a project coordinated by the COORDINAMENTO, a shelter of the owner.
pub(crate) struct Net {
    pub owner: String,
    pub of_kind: BTreeMap<&'static str, String>,
    pub project: String,
    pub shelter: String,
}

impl Net {
    pub(crate) async fn build(hub: &TestHub) -> Net {
        let owner = hub
            .agency("Cooperativa Titolare", "ENTE_ANTITRATTA", "BG")
            .await;
        let mut of_kind = BTreeMap::new();
        for kind in KINDS {
            let name = format!("Partner {kind}");
            of_kind.insert(kind, hub.agency(&name, kind, "BG").await);
        }
        let project = project(hub, &of_kind["COORDINAMENTO"], &[&owner]).await;
        let shelter = shelter(hub, &owner, "Casa Rifugio").await;
        Net {
            owner,
            of_kind,
            project,
            shelter,
        }
    }

    /// The relationship `agency` has to the case that was given `case_rel` (None: never shared).
    fn relationship(&self, agency: &str, case_rel: Rel) -> Rel {
        if agency == self.owner {
            return Rel::Owner;
        }
        let kind = self
            .of_kind
            .iter()
            .find(|(_, id)| id.as_str() == agency)
            .map(|(k, _)| *k)
            .expect("an agency of the network");
        if case_rel != Rel::None && case_rel.possible_for(kind) {
            case_rel
        } else {
            Rel::None
        }
    }
}

/// The hub serves exactly the case fields of ACCESS.md §2: a new field must be classified there,
/// and in this test's table, before it can leak.
async fn case_fields_are_the_documents(hub: TestHub) {
    let t = hub.admin();
    let d = hub
        .ok(
            &t,
            "{ __type(name: \"Case\") { fields { name } } }",
            json!({}),
        )
        .await;
    let served: BTreeSet<String> = d["__type"]["fields"]
        .as_array()
        .expect("the Case type")
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let documented: BTreeSet<String> = CASE_FIELDS.iter().map(|f| f.0.to_string()).collect();
    assert_eq!(served, documented, "Case fields served vs ACCESS.md §2");
    let d = hub
        .ok(
            &t,
            "{ __type(name: \"CasePatch\") { inputFields { name } } }",
            json!({}),
        )
        .await;
    let served: BTreeSet<String> = d["__type"]["inputFields"]
        .as_array()
        .expect("the CasePatch type")
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .filter(|f| f != "phaseReason")
        .collect();
    let documented: BTreeSet<String> = PATCH_FIELDS.iter().map(|f| f.0.to_string()).collect();
    assert_eq!(served, documented, "CasePatch fields vs ACCESS.md §2");
    hub.finish().await;
}
hub_test!(case_fields_are_the_documents);

/// Sets up the relationships of the read matrix on `case` (given `rel`): every kind §3 allows
/// gets it; for every other kind the consent, the share (and the emergency share, where the
/// purpose has one) or the transfer is refused with VALIDATION.
async fn relate_every_kind(hub: &TestHub, net: &Net, case: &str, rel: Rel) {
    let coord = hub.token(Some(&net.owner), UserRole::Coordinator);
    let (purpose, recipients) = rel.purpose().expect("a shared relationship");
    let others: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| !recipients.contains(k))
        .collect();
    for kind in &others {
        let r = hub
            .gql(
                Some(&coord),
                CONSENT,
                json!({ "c": case, "p": purpose, "r": net.of_kind[kind], "g": GIVEN_ON }),
            )
            .await;
        expect_code(
            &r,
            "VALIDATION",
            &format!("consent for {purpose} to {kind}"),
        );
    }
    let mut valid = String::new();
    for kind in recipients {
        let recipient = &net.of_kind[kind];
        if rel == Rel::Transfer {
            valid = consent(hub, &coord, case, purpose, recipient).await;
        } else {
            valid = give(hub, &net.owner, case, rel, recipient).await.0;
        }
    }
    for kind in &others {
        let to = &net.of_kind[kind];
        let what = format!("{purpose} to {kind}");
        if rel == Rel::Transfer {
            let r = hub
                .gql(
                    Some(&coord),
                    TRANSFER,
                    json!({ "c": case, "to": to, "k": valid }),
                )
                .await;
            expect_code(&r, "VALIDATION", &what);
            continue;
        }
        let r = hub
            .gql(
                Some(&coord),
                SHARE,
                json!({ "c": case, "r": to, "p": purpose, "k": valid }),
            )
            .await;
        expect_code(&r, "VALIDATION", &what);
        if matches!(purpose, "JUDICIAL_COOPERATION" | "SERVICE_REFERRAL") {
            let r = hub
                .gql(
                    Some(&coord),
                    SHARE,
                    json!({ "c": case, "r": to, "p": purpose, "why": "pericolo di vita" }),
                )
                .await;
            expect_code(&r, "VALIDATION", &format!("emergency {what}"));
        }
    }
    if rel == Rel::Transfer {
        let ente = &net.of_kind["ENTE_ANTITRATTA"];
        // A transfer is not a share (§3: "through a transfer request, not a share").
        let r = hub
            .gql(
                Some(&coord),
                SHARE,
                json!({ "c": case, "r": ente, "p": "TRANSFER", "k": valid }),
            )
            .await;
        expect_code(&r, "VALIDATION", "a share for TRANSFER");
        // §1: only a coordinator requests a transfer.
        let op = hub.token(Some(&net.owner), UserRole::Operator);
        let r = hub
            .gql(
                Some(&op),
                TRANSFER,
                json!({ "c": case, "to": ente, "k": valid }),
            )
            .await;
        expect_code(&r, "FORBIDDEN", "a transfer requested by an operator");
        let d = hub
            .ok(
                &coord,
                TRANSFER,
                json!({ "c": case, "to": ente, "k": valid }),
            )
            .await;
        assert_eq!(d["requestTransfer"]["status"], "REQUESTED");
    }
}

/// ACCESS.md §4 cell by cell: 10 kinds × 4 roles × 7 relationships, every field of the case by
/// id, every case in the viewer's list, and a hidden case answering exactly like an id never used.
async fn read_matrix(hub: TestHub) {
    let net = Net::build(&hub).await;
    // One closed case with every field filled per relationship; the NONE case is never shared.
    let mut cases: BTreeMap<Rel, String> = BTreeMap::new();
    let mut reference: BTreeMap<Rel, Value> = BTreeMap::new();
    let owner_op = hub.token(Some(&net.owner), UserRole::Operator);
    for rel in Rel::ALL.into_iter().filter(|r| *r != Rel::Owner) {
        let code = format!("RM-{}", rel.name());
        let (id, input) =
            full_case(&hub, &net.owner, &net.shelter, &net.project, &code, true).await;
        if rel != Rel::None {
            relate_every_kind(&hub, &net, &id, rel).await;
        }
        let seen = view(&hub, &owner_op, &id).await;
        assert!(seen.get("errors").is_none(), "{seen}");
        let seen = normalized(&seen["data"]["case"]);
        check_owner_view(&seen, &input, &net.owner, true);
        cases.insert(rel, id);
        reference.insert(rel, seen);
    }
    // OWNER: only enti hold cases (§1); no other kind can open one.
    for kind in KINDS.into_iter().filter(|k| *k != "ENTE_ANTITRATTA") {
        for role in [UserRole::Operator, UserRole::Coordinator] {
            let t = hub.token(Some(&net.of_kind[kind]), role);
            let input = json!({ "code": format!("X-{kind}-{}", role.as_str()), "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10" });
            let r = hub.gql(Some(&t), CREATE_CASE, json!({ "i": input })).await;
            expect_code(&r, "FORBIDDEN", &format!("a case opened by {kind}"));
        }
    }

    let mut failures: Vec<String> = Vec::new();
    let mut never: BTreeMap<String, Value> = BTreeMap::new();
    let mut situations = 0;
    for kind in KINDS {
        for role in ROLES {
            for rel in Rel::ALL {
                // The situation: which agency looks at which case.
                let (viewer, case_rel) = match rel {
                    Rel::Owner if kind == "ENTE_ANTITRATTA" => (net.owner.clone(), Rel::None),
                    Rel::Owner | Rel::None => (net.of_kind[kind].clone(), Rel::None),
                    r => (net.of_kind[kind].clone(), r),
                };
                let id = &cases[&case_rel];
                let token = hub.member(&viewer, role);
                let got = view(&hub, &token, id).await;
                let what = format!("{kind} {} {}", role.as_str(), rel.name());
                situations += 1;
                // A gateway's entity look-up answers exactly what `case(id:)` answers (issue 7).
                let entity = entity_view(&hub, &token, id).await;
                let by_entity = answer_of(&entity, &entity["data"]["_entities"][0]);
                let by_id = answer_of(&got, &got["data"]["case"]);
                if by_entity != by_id {
                    failures.push(format!(
                        "{what}: _entities({id}) differs from case({id})\n  case     {got}\n  entities {entity}"
                    ));
                }
                if rel != Rel::None && rel.possible_for(kind) && gets_rows(role) {
                    let want = expected_view(&reference[&case_rel], rel, &viewer);
                    let seen = normalized(&got["data"]["case"]);
                    if got.get("errors").is_some() || seen != want {
                        failures.push(format!(
                            "{what}: case({id})\n  expected {want}\n  got      {got}"
                        ));
                    }
                } else {
                    if !never.contains_key(&token) {
                        let answer = view(&hub, &token, NEVER).await;
                        never.insert(token.clone(), answer);
                    }
                    let unused = &never[&token];
                    if got != *unused || !got["data"]["case"].is_null() {
                        failures.push(format!(
                            "{what}: case({id}) must answer like an id never used\n  expected {unused}\n  got      {got}"
                        ));
                    }
                }
            }
        }
    }
    // Lists: every agency, every role, exactly its cases with exactly the same fields.
    let mut agencies = vec![net.owner.clone()];
    agencies.extend(net.of_kind.values().cloned());
    let mut lists = 0;
    for agency in &agencies {
        for role in ROLES {
            let mut want: BTreeMap<String, Value> = BTreeMap::new();
            if gets_rows(role) {
                for (case_rel, id) in &cases {
                    let rel = net.relationship(agency, *case_rel);
                    if rel != Rel::None {
                        want.insert(id.clone(), expected_view(&reference[case_rel], rel, agency));
                    }
                }
            }
            let got = list(&hub, &hub.member(agency, role)).await;
            let seen: BTreeMap<String, Value> = got["data"]["cases"]["edges"]
                .as_array()
                .map(|edges| {
                    edges
                        .iter()
                        .map(|e| {
                            let n = normalized(&e["node"]);
                            (n["id"].as_str().unwrap_or_default().to_string(), n)
                        })
                        .collect()
                })
                .unwrap_or_default();
            lists += 1;
            if got.get("errors").is_some()
                || seen != want
                || got["data"]["cases"]["totalCount"] != want.len()
            {
                failures.push(format!(
                    "cases list of {agency} as {}:\n  expected {}\n  got      {got}",
                    role.as_str(),
                    json!(want)
                ));
            }
        }
    }
    // The platform admin proper (no agency) sees no case at all.
    let admin = hub.admin();
    let unused = view(&hub, &admin, NEVER).await;
    for id in cases.values() {
        let got = view(&hub, &admin, id).await;
        if got != unused {
            failures.push(format!(
                "platform admin: case({id})\n  expected {unused}\n  got      {got}"
            ));
        }
    }
    let got = list(&hub, &admin).await;
    if got.get("errors").is_some() || got["data"]["cases"]["totalCount"] != 0 {
        failures.push(format!("platform admin's cases list: {got}"));
    }
    eprintln!(
        "read matrix: {situations} situations by id, {lists} lists, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {situations} situations and {lists} lists break ACCESS.md §4:\n{}",
        failures.len(),
        failures.join("\n")
    );
    hub.finish().await;
}
hub_test!(read_matrix);

/// §4 NOTES: the owner reads every note; a joint partner the notes its own agency wrote and the
/// notes the owner marked shared; nobody else reads notes.
async fn case_diary(hub: TestHub) {
    let owner = hub.agency("Ente Diario", "ENTE_ANTITRATTA", "BS").await;
    let j1 = hub.agency("Ente Partner", "ENTE_ANTITRATTA", "BS").await;
    let j2 = hub.agency("CAV Partner", "CENTRO_ANTIVIOLENZA", "BS").await;
    let q = hub.agency("Questura BS", "QUESTURA", "BS").await;
    let t = hub.agency("Ente Ricevente", "ENTE_ANTITRATTA", "BS").await;
    let s = hub.agency("ASST", "SERVIZI_TERRITORIALI", "BS").await;
    let fo = hub.agency("Carabinieri", "FORZE_ORDINE", "BS").await;
    let coordination = hub.agency("Coordinamento", "COORDINAMENTO", "BS").await;
    let project = project(&hub, &coordination, &[&owner]).await;
    let sh = shelter(&hub, &owner, "Casa").await;
    let (id, _) = full_case(&hub, &owner, &sh, &project, "DIARIO-1", false).await;
    for (rel, agency) in [
        (Rel::Joint, &j1),
        (Rel::Joint, &j2),
        (Rel::Permit, &q),
        (Rel::Transfer, &t),
        (Rel::Service, &s),
        (Rel::Judicial, &fo),
    ] {
        give(&hub, &owner, &id, rel, agency).await;
    }
    // Joint partners write in the diary, signed by their agency; only the owner shares notes.
    for (agency, text) in [(&j1, "Nota ente partner"), (&j2, "Nota CAV")] {
        let tok = hub.token(Some(agency), UserRole::Operator);
        let d = hub
            .ok(&tok, NOTE, json!({ "c": id, "t": text, "s": false }))
            .await;
        assert_eq!(d["addCaseNote"]["author"]["id"], **agency);
        let r = hub
            .gql(
                Some(&tok),
                NOTE,
                json!({ "c": id, "t": "da condividere", "s": true }),
            )
            .await;
        assert!(
            r.get("errors").is_some(),
            "only the owner marks notes shared: {r}"
        );
    }
    let texts = |agency: &str| {
        let tok = hub.token(Some(agency), UserRole::Operator);
        let id = id.clone();
        let hub = &hub;
        async move {
            let r = hub
                .gql(
                    Some(&tok),
                    "query($id: ID!) { case(id: $id) { notes { text author { id } } } }",
                    json!({ "id": id }),
                )
                .await;
            assert!(r.get("errors").is_none(), "{r}");
            r["data"]["case"]["notes"].as_array().map(|notes| {
                notes
                    .iter()
                    .map(|n| n["text"].as_str().unwrap().to_string())
                    .collect::<BTreeSet<_>>()
            })
        }
    };
    let set = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        texts(&owner).await,
        set(&[
            "Nota condivisa DIARIO-1",
            "Nota riservata DIARIO-1",
            "Nota ente partner",
            "Nota CAV"
        ]),
        "the owner reads every note"
    );
    assert_eq!(
        texts(&j1).await,
        set(&["Nota condivisa DIARIO-1", "Nota ente partner"]),
        "a joint ente reads its own notes and the shared ones"
    );
    assert_eq!(
        texts(&j2).await,
        set(&["Nota condivisa DIARIO-1", "Nota CAV"]),
        "a joint CAV reads its own notes and the shared ones"
    );
    for (name, agency) in [
        ("PERMIT", &q),
        ("TRANSFER", &t),
        ("SERVICE", &s),
        ("JUDICIAL", &fo),
    ] {
        assert_eq!(texts(agency).await, None, "{name} reads no notes");
    }
    hub.finish().await;
}
hub_test!(case_diary);

/// §4: a filter on a field matches only where the viewer reads the field; a hidden case never
/// matches anything.
async fn filters_never_leak(hub: TestHub) {
    let owner = hub.agency("Ente Filtri", "ENTE_ANTITRATTA", "BG").await;
    let coordination = hub.agency("Coord", "COORDINAMENTO", "BG").await;
    let project = project(&hub, &coordination, &[&owner]).await;
    let sh = shelter(&hub, &owner, "Casa").await;
    let (id, _) = full_case(&hub, &owner, &sh, &project, "FILTRO-1", false).await;
    let q = hub.agency("Questura BG", "QUESTURA", "BG").await;
    let j = hub.agency("CAV BG", "CENTRO_ANTIVIOLENZA", "BG").await;
    let fo = hub.agency("Polizia BG", "FORZE_ORDINE", "BG").await;
    let x = hub.agency("Prefettura BG", "PREFETTURA", "BG").await;
    give(&hub, &owner, &id, Rel::Permit, &q).await;
    give(&hub, &owner, &id, Rel::Joint, &j).await;
    give(&hub, &owner, &id, Rel::Judicial, &fo).await;
    // (filter, class of the field it reads, whether the case's value matches)
    let filters = [
        (json!({ "nationality": "NG" }), "PROFILE", true),
        (json!({ "gender": "FEMALE" }), "PROFILE", true),
        (json!({ "exploitation": "SEXUAL_STREET" }), "PROFILE", true),
        (json!({ "province": "BG" }), "PROFILE", true),
        (json!({ "nationality": "AL" }), "PROFILE", false),
        (json!({ "phase": "PRIMA_ACCOGLIENZA" }), "BASE", true),
        (json!({ "phase": "SECONDA_ACCOGLIENZA" }), "BASE", false),
        (json!({ "owner": owner }), "BASE", true),
        (json!({ "project": project }), "BASE", true),
        (
            json!({ "openedFrom": "2023-01-01", "openedTo": "2023-12-31" }),
            "BASE",
            true,
        ),
        (
            json!({ "phase": "PRIMA_ACCOGLIENZA", "nationality": "NG" }),
            "PROFILE",
            true,
        ),
    ];
    let query = "query($f: CaseFilter) { cases(filter: $f) { totalCount edges { node { id } } } }";
    let mut failures = Vec::new();
    for (rel, agency) in [
        (Rel::Owner, &owner),
        (Rel::Joint, &j),
        (Rel::Permit, &q),
        (Rel::Judicial, &fo),
        (Rel::None, &x),
    ] {
        let tok = hub.token(Some(agency), UserRole::Operator);
        for (filter, class, matches) in &filters {
            let found = *matches && reads(rel, class);
            let r = hub.gql(Some(&tok), query, json!({ "f": filter })).await;
            let want = if found {
                json!([{ "node": { "id": id } }])
            } else {
                json!([])
            };
            if r.get("errors").is_some()
                || r["data"]["cases"]["edges"] != want
                || r["data"]["cases"]["totalCount"] != usize::from(found)
            {
                failures.push(format!(
                    "{} filters {filter}: expected {want}, got {r}",
                    rel.name()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    hub.finish().await;
}
hub_test!(filters_never_leak);

/// §4: a case with relationship NONE is "not in an error message". Another ente's case code and
/// shelter answer exactly like ones never used.
async fn hidden_cases_are_in_no_error_message(hub: TestHub) {
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "BG").await;
    let b = hub.agency("Ente B", "ENTE_ANTITRATTA", "BG").await;
    hub.case(&a, "MLA-2023-001", json!({})).await;
    let theirs = shelter(&hub, &a, "Casa di A").await;
    let bo = hub.token(Some(&b), UserRole::Operator);
    let input = |code: &str, shelter: Option<&str>| json!({ "i": { "code": code, "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10", "shelterId": shelter } });
    // A shelter of another ente: like a shelter never registered.
    let r = hub
        .gql(Some(&bo), CREATE_CASE, input("B-1", Some(&theirs)))
        .await;
    let unused = hub
        .gql(Some(&bo), CREATE_CASE, input("B-1", Some(NEVER)))
        .await;
    expect_code(&r, "VALIDATION", "another ente's shelter");
    assert_eq!(
        r, unused,
        "another ente's shelter: like one never registered"
    );
    // A code that a case hidden from B uses: like a code never used.
    let used = hub
        .gql(Some(&bo), CREATE_CASE, input("MLA-2023-001", None))
        .await;
    let fresh = hub
        .gql(Some(&bo), CREATE_CASE, input("MLA-2023-002", None))
        .await;
    assert_eq!(
        code(&used),
        code(&fresh),
        "the code of a case B cannot see shows in B's answer: {used}"
    );
    hub.finish().await;
}
hub_test!(hidden_cases_are_in_no_error_message);

// =================================================================================================
// §5: the change matrix
// =================================================================================================

/// A change a viewer may try.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Update(&'static str),
    AddActivity,
    Close,
    Reopen,
    AddNote,
    RecordConsent,
    RevokeConsent,
    Share,
    RevokeShare,
    RequestTransfer,
    AcceptTransfer,
    RejectTransfer,
}

fn ops() -> Vec<Op> {
    let mut ops: Vec<Op> = PATCH_FIELDS.iter().map(|(f, _)| Op::Update(f)).collect();
    ops.extend([
        Op::AddActivity,
        Op::Close,
        Op::Reopen,
        Op::AddNote,
        Op::RecordConsent,
        Op::RevokeConsent,
        Op::Share,
        Op::RevokeShare,
        Op::RequestTransfer,
        Op::AcceptTransfer,
        Op::RejectTransfer,
    ]);
    ops
}

/// §5 (and §1 for the coordinator-only transfer steps), by hand.
fn may_change(rel: Rel, role: UserRole, op: Op) -> bool {
    if !gets_rows(role) {
        return false;
    }
    let class_of = |field: &str| {
        PATCH_FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| *c)
            .expect("a patch field")
    };
    match (rel, op) {
        (Rel::Owner, Op::RequestTransfer) => role == UserRole::Coordinator,
        (Rel::Owner, Op::AcceptTransfer | Op::RejectTransfer) => false,
        (Rel::Owner, _) => true,
        (Rel::Joint, Op::AddNote) => true,
        (Rel::Joint, Op::Update(f)) => class_of(f) == "GBV",
        (Rel::Permit, Op::Update(f)) => matches!(f, "permitCurrent" | "permitExpiresOn"),
        (Rel::Transfer, Op::AcceptTransfer | Op::RejectTransfer) => role == UserRole::Coordinator,
        _ => false,
    }
}

/// The case of the change matrix and the agencies around it.
struct Stage {
    case: String,
    owner: String,
    viewers: Vec<(Rel, String)>,
    /// The pending transfer to the TRANSFER viewer, and the consent it rests on.
    transfer: String,
    transfer_consent: String,
    /// Another ente with a TRANSFER consent (but no request), for requestTransfer attempts.
    other_ente: String,
    other_consent: String,
    /// A CAV with a JOINT_MANAGEMENT consent, for shareCase attempts.
    spare: String,
    spare_consent: String,
    /// A second shelter of the owner.
    shelter2: String,
}

fn patch_value(field: &str, phase: &str, stage: &Stage) -> Value {
    match field {
        "phase" if phase == "PRIMA_ACCOGLIENZA" => json!("SECONDA_ACCOGLIENZA"),
        "phase" => json!("PRIMA_ACCOGLIENZA"),
        "nationality" => json!("AL"),
        "gender" => json!("MALE"),
        "ageGroup" => json!("MINOR"),
        "exploitation" => json!(["LABOUR"]),
        "emersionChannel" => json!("SELF_REFERRAL"),
        "emersionProvince" => json!("BS"),
        "accompanyingMinors" => json!(2),
        "pregnant" => json!(false),
        "birthDate" => json!("2000-01-01"),
        "shelterId" => json!(stage.shelter2),
        "permitAtStart" => json!("ART18"),
        "permitCurrent" => json!("SPECIAL_PROTECTION"),
        "permitExpiresOn" => json!("2026-12-31"),
        "complaintFiled" => json!(false),
        "complaintFiledOn" => json!("2023-03-03"),
        "gbvIndicators" => json!(["isolamento"]),
        other => json!(format!("nuovo valore di {other}")),
    }
}

/// Tries `op` on the stage's case (or, with `never`, on ids never used) as `token`'s user;
/// `now` is the case's current version and phase.
async fn attempt(
    hub: &TestHub,
    st: &Stage,
    token: &str,
    op: Op,
    never: bool,
    now: &(i64, String),
) -> Value {
    let target = |real: &str| {
        if never {
            NEVER.to_string()
        } else {
            real.to_string()
        }
    };
    let coord = hub.token(Some(&st.owner), UserRole::Coordinator);
    let case = target(&st.case);
    match op {
        Op::Update(field) => {
            let (v, phase) = now;
            let mut patch = Map::new();
            patch.insert(field.into(), patch_value(field, phase, st));
            if field == "phase" {
                patch.insert("phaseReason".into(), json!("verifica"));
            }
            hub.gql(
                Some(token),
                UPDATE,
                json!({ "id": case, "v": v, "p": patch }),
            )
            .await
        }
        Op::AddActivity => hub.gql(Some(token), ACTIVITY, json!({ "c": case })).await,
        Op::Close => {
            hub.gql(Some(token), CLOSE, json!({ "id": case, "v": now.0 }))
                .await
        }
        Op::Reopen => {
            hub.gql(Some(token), REOPEN, json!({ "id": case, "v": now.0 }))
                .await
        }
        Op::AddNote => {
            hub.gql(
                Some(token),
                NOTE,
                json!({ "c": case, "t": "nota di prova", "s": false }),
            )
            .await
        }
        Op::RecordConsent => {
            hub.gql(
                Some(token),
                CONSENT,
                json!({ "c": case, "p": "JOINT_MANAGEMENT", "r": st.spare, "g": GIVEN_ON }),
            )
            .await
        }
        Op::RevokeConsent => {
            let id = if never {
                NEVER.to_string()
            } else {
                consent(hub, &coord, &st.case, "JOINT_MANAGEMENT", &st.spare).await
            };
            hub.gql(
                Some(token),
                REVOKE_CONSENT,
                json!({ "id": id, "on": today() }),
            )
            .await
        }
        Op::Share => {
            hub.gql(
                Some(token),
                SHARE,
                json!({ "c": case, "r": st.spare, "p": "JOINT_MANAGEMENT", "k": st.spare_consent }),
            )
            .await
        }
        Op::RevokeShare => {
            let id = if never {
                NEVER.to_string()
            } else {
                share(
                    hub,
                    &coord,
                    &st.case,
                    &st.spare,
                    "JOINT_MANAGEMENT",
                    &st.spare_consent,
                )
                .await
            };
            hub.gql(Some(token), REVOKE_SHARE, json!({ "id": id }))
                .await
        }
        Op::RequestTransfer => {
            hub.gql(
                Some(token),
                TRANSFER,
                json!({ "c": case, "to": st.other_ente, "k": st.other_consent }),
            )
            .await
        }
        Op::AcceptTransfer => {
            hub.gql(Some(token), ACCEPT, json!({ "id": target(&st.transfer) }))
                .await
        }
        Op::RejectTransfer => {
            hub.gql(Some(token), REJECT, json!({ "id": target(&st.transfer) }))
                .await
        }
    }
}

/// ACCESS.md §5 cell by cell: every relationship × every role × every change. Allowed changes
/// succeed; a visible case answers FORBIDDEN; a hidden one NOT_FOUND, exactly like an id never
/// used; refused changes write nothing.
async fn change_matrix(hub: TestHub) {
    let owner = hub.agency("Ente Titolare", "ENTE_ANTITRATTA", "MI").await;
    let coordination = hub.agency("Coordinamento MI", "COORDINAMENTO", "MI").await;
    let project = project(&hub, &coordination, &[&owner]).await;
    let sh = shelter(&hub, &owner, "Casa Uno").await;
    let shelter2 = shelter(&hub, &owner, "Casa Due").await;
    let (case, _) = full_case(&hub, &owner, &sh, &project, "CM-1", false).await;
    let joint = hub.agency("CAV MI", "CENTRO_ANTIVIOLENZA", "MI").await;
    let permit = hub.agency("Questura MI", "QUESTURA", "MI").await;
    let receiver = hub.agency("Ente Ricevente", "ENTE_ANTITRATTA", "MI").await;
    let service = hub.agency("Servizi MI", "SERVIZI_TERRITORIALI", "MI").await;
    let judicial = hub.agency("Procura MI", "PROCURA", "MI").await;
    let none = hub.agency("Prefettura MI", "PREFETTURA", "MI").await;
    let none_ente = hub.agency("Altro Ente", "ENTE_ANTITRATTA", "MI").await;
    let other_ente = hub.agency("Terzo Ente", "ENTE_ANTITRATTA", "MI").await;
    let spare = hub
        .agency("CAV di riserva", "CENTRO_ANTIVIOLENZA", "MI")
        .await;
    give(&hub, &owner, &case, Rel::Joint, &joint).await;
    give(&hub, &owner, &case, Rel::Permit, &permit).await;
    give(&hub, &owner, &case, Rel::Service, &service).await;
    give(&hub, &owner, &case, Rel::Judicial, &judicial).await;
    let (transfer_consent, transfer) = give(&hub, &owner, &case, Rel::Transfer, &receiver).await;
    let coord = hub.token(Some(&owner), UserRole::Coordinator);
    let other_consent = consent(&hub, &coord, &case, "TRANSFER", &other_ente).await;
    let spare_consent = consent(&hub, &coord, &case, "JOINT_MANAGEMENT", &spare).await;
    let st = Stage {
        case: case.clone(),
        owner: owner.clone(),
        viewers: vec![
            (Rel::Owner, owner.clone()),
            (Rel::Joint, joint),
            (Rel::Permit, permit),
            (Rel::Transfer, receiver.clone()),
            (Rel::Service, service),
            (Rel::Judicial, judicial),
            (Rel::None, none),
            (Rel::None, none_ente),
        ],
        transfer,
        transfer_consent,
        other_ente,
        other_consent,
        spare,
        spare_consent,
        shelter2,
    };

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut now = version(&hub, &owner, &case).await;
    for (rel, agency) in &st.viewers {
        for role in ROLES {
            let token = hub.member(agency, role);
            for op in ops() {
                // Left for the end: they end the pending transfer the loop relies on. The owner
                // reopens right after each of its closings (the case is open otherwise).
                let deferred = matches!(
                    (rel, role, op),
                    (Rel::Owner, UserRole::Coordinator, Op::RequestTransfer)
                        | (Rel::Owner, _, Op::Reopen)
                        | (
                            Rel::Transfer,
                            UserRole::Coordinator,
                            Op::AcceptTransfer | Op::RejectTransfer
                        )
                );
                if deferred {
                    continue;
                }
                checked += 1;
                let what = format!("{} {} {op:?}", rel.name(), role.as_str());
                let got = attempt(&hub, &st, &token, op, false, &now).await;
                let sees = *rel != Rel::None && gets_rows(role);
                if sees && may_change(*rel, role, op) {
                    if got.get("errors").is_some() {
                        failures.push(format!("{what}: expected success, got {got}"));
                    } else if op == Op::Close {
                        now = version(&hub, &owner, &case).await;
                        let reopened = attempt(&hub, &st, &token, Op::Reopen, false, &now).await;
                        if reopened.get("errors").is_some() {
                            failures.push(format!("{what}: the owner reopening: {reopened}"));
                        }
                    }
                    now = version(&hub, &owner, &case).await;
                    continue;
                }
                if sees {
                    if code(&got).as_deref() != Some("FORBIDDEN") {
                        failures.push(format!("{what}: expected FORBIDDEN, got {got}"));
                    }
                } else {
                    let unused = attempt(&hub, &st, &token, op, true, &now).await;
                    // The platform admin, of no agency, may be refused before any case is
                    // looked up: FORBIDDEN, the same for every id.
                    let refused = match role {
                        UserRole::PlatformAdmin => ["NOT_FOUND", "FORBIDDEN"].as_slice(),
                        _ => ["NOT_FOUND"].as_slice(),
                    };
                    if got != unused || !code(&got).is_some_and(|c| refused.contains(&c.as_str())) {
                        failures.push(format!(
                            "{what}: expected NOT_FOUND like an id never used\n  expected {unused}\n  got      {got}"
                        ));
                    }
                }
                let after = version(&hub, &owner, &case).await;
                if after != now {
                    failures.push(format!(
                        "{what}: a refused change wrote (version {:?} -> {after:?})",
                        now
                    ));
                    now = after;
                }
            }
        }
    }

    // The transfer steps only a coordinator takes (§1, §5).
    let receiver_coord = hub.token(Some(&receiver), UserRole::Coordinator);
    let receiver_op = hub.token(Some(&receiver), UserRole::Operator);
    let d = hub
        .ok(&receiver_coord, REJECT, json!({ "id": st.transfer }))
        .await;
    assert_eq!(d["rejectTransfer"]["status"], "REJECTED");
    let gone = view(&hub, &receiver_op, &case).await;
    assert_eq!(
        gone,
        view(&hub, &receiver_op, NEVER).await,
        "a rejected transfer gives nothing"
    );
    let d = hub
        .ok(
            &coord,
            TRANSFER,
            json!({ "c": case, "to": receiver, "k": st.transfer_consent }),
        )
        .await;
    let second = id_of(&d, "requestTransfer");
    let d = hub
        .ok(&receiver_coord, ACCEPT, json!({ "id": second }))
        .await;
    assert_eq!(d["acceptTransfer"]["status"], "ACCEPTED");
    let now_owner = view(&hub, &receiver_op, &case).await;
    assert_eq!(
        now_owner["data"]["case"]["access"]["relationships"],
        json!(["OWNER"])
    );
    let old_op = hub.token(Some(&owner), UserRole::Operator);
    assert_eq!(
        view(&hub, &old_op, &case).await,
        view(&hub, &old_op, NEVER).await,
        "the old owner keeps nothing"
    );
    eprintln!(
        "change matrix: {checked} attempts, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} attempts break ACCESS.md §5:\n{}",
        failures.len(),
        failures.join("\n")
    );
    hub.finish().await;
}
hub_test!(change_matrix);

// =================================================================================================
// §9: the access log
// =================================================================================================

/// Every read beyond BASE and every change is logged with who, which relationships and which
/// classes, never a value; only a coordinator of the owner lists a case's log.
async fn access_log(hub: TestHub) {
    let owner = hub.agency("Ente Registro", "ENTE_ANTITRATTA", "PV").await;
    let coordination = hub.agency("Coord PV", "COORDINAMENTO", "PV").await;
    let project = project(&hub, &coordination, &[&owner]).await;
    let sh = shelter(&hub, &owner, "Casa PV").await;
    let (id, input) = full_case(&hub, &owner, &sh, &project, "LOG-1", false).await;
    let partner = hub
        .agency("CAV Liberamente", "CENTRO_ANTIVIOLENZA", "PV")
        .await;
    let stranger = hub.agency("Altro Ente PV", "ENTE_ANTITRATTA", "PV").await;
    give(&hub, &owner, &id, Rel::Joint, &partner).await;
    let coord = hub.token(Some(&owner), UserRole::Coordinator);
    let log = |token: String| {
        let id = id.clone();
        let hub = &hub;
        async move { hub.gql(Some(&token), ACCESS_LOG, json!({ "c": id })).await }
    };
    let entries = |r: &Value| -> Vec<Value> {
        assert!(r.get("errors").is_none(), "{r}");
        r["data"]["caseAccessLog"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };

    // A joint partner reads PROFILE and IDENTITY fields: one entry.
    let before = entries(&log(coord.clone()).await).len();
    let partner_op = hub.token(Some(&partner), UserRole::Operator);
    let r = hub
        .ok(
            &partner_op,
            "query($id: ID!) { case(id: $id) { id code nationality gender alias legalName } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["case"]["alias"], input["alias"]);
    let after = entries(&log(coord.clone()).await);
    assert_eq!(after.len(), before + 1, "one entry for one read: {after:?}");
    let e = after.last().unwrap();
    assert_eq!(e["agency"]["id"], partner);
    assert_eq!(e["userId"], format!("operator-{partner}"));
    assert_eq!(e["role"], "OPERATOR");
    assert_eq!(e["operation"], "read");
    assert_eq!(e["relationships"], json!(["JOINT"]));
    let classes: BTreeSet<&str> = e["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(classes, BTreeSet::from(["IDENTITY", "PROFILE"]));

    // Reading BASE fields only writes nothing.
    hub.ok(
        &partner_op,
        "query($id: ID!) { case(id: $id) { id code phase openedOn version owner { id } access { relationships visibleClasses } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        entries(&log(coord.clone()).await).len(),
        before + 1,
        "BASE reads are not logged"
    );

    // A change by the joint partner: one entry naming the class changed.
    let (v, _) = version(&hub, &owner, &id).await;
    hub.ok(
        &partner_op,
        UPDATE,
        json!({ "id": id, "v": v, "p": { "gbvRiskLevel": "Rischio alto" } }),
    )
    .await;
    let after = entries(&log(coord.clone()).await);
    assert_eq!(after.len(), before + 2);
    let e = after.last().unwrap();
    assert_eq!(e["agency"]["id"], partner);
    assert_eq!(e["operation"], "updateCase");
    assert_eq!(e["relationships"], json!(["JOINT"]));
    assert_eq!(e["classes"], json!(["GBV"]));

    // The owner's own reads are logged too.
    let owner_op = hub.token(Some(&owner), UserRole::Operator);
    let r = view(&hub, &owner_op, &id).await;
    assert!(r.get("errors").is_none(), "{r}");
    let after = entries(&log(coord.clone()).await);
    let e = after.last().unwrap();
    assert_eq!(e["agency"]["id"], owner);
    assert_eq!(e["operation"], "read");
    assert_eq!(e["relationships"], json!(["OWNER"]));

    // Who may list it.
    let r = log(owner_op.clone()).await;
    expect_code(&r, "FORBIDDEN", "the owner's operator");
    for role in [UserRole::Operator, UserRole::Coordinator] {
        let r = log(hub.token(Some(&partner), role)).await;
        expect_code(&r, "FORBIDDEN", "a joint partner (sees the case)");
    }
    let hidden = [
        hub.token(Some(&stranger), UserRole::Coordinator),
        hub.token(Some(&owner), UserRole::Analyst),
        hub.admin(),
    ];
    for t in hidden {
        let r = log(t.clone()).await;
        let unused = hub.gql(Some(&t), ACCESS_LOG, json!({ "c": NEVER })).await;
        expect_code(&r, "NOT_FOUND", "who cannot see the case");
        assert_eq!(r, unused, "like an id never used");
    }

    // A platform admin naming an agency is no one the hub knows (issue 19).
    let r = log(hub.token(Some(&owner), UserRole::PlatformAdmin)).await;
    expect_code(&r, "UNAUTHENTICATED", "a platform admin naming an agency");

    // No value anywhere in the log.
    let text = log(coord.clone()).await.to_string();
    let mut values: Vec<String> = [
        "alias",
        "legalName",
        "phone",
        "asylumStatus",
        "healthNotes",
        "psychSupport",
        "gbvRiskLevel",
    ]
    .iter()
    .map(|k| input[*k].as_str().unwrap().to_string())
    .collect();
    values.extend([
        "Rischio alto".to_string(),
        SHELTER_ADDRESS.to_string(),
        input["gbvIndicators"][0].as_str().unwrap().to_string(),
        "Nota condivisa LOG-1".to_string(),
        "Nota riservata LOG-1".to_string(),
        "1999-04-02".to_string(),
        "+39 333".to_string(),
    ]);
    for v in values {
        assert!(!text.contains(&v), "the log holds the value {v:?}: {text}");
    }
    hub.finish().await;
}
hub_test!(access_log);

// =================================================================================================
// §7: statistics
// =================================================================================================

const STATS: &str = "query($g: [CaseDimension!]!, $s: StatisticsScope, $f: CaseFilter) { caseStatistics(groupBy: $g, scope: $s, filter: $f) { keys count suppressed } }";

/// A statistics answer as (keys, count or None when suppressed), checking `suppressed` agrees.
fn cells(r: &Value) -> Vec<(Vec<String>, Option<i64>)> {
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["caseStatistics"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            let keys = c["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect();
            let count = c["count"].as_i64();
            assert_eq!(
                c["suppressed"],
                count.is_none(),
                "suppressed iff no count: {c}"
            );
            (keys, count)
        })
        .collect()
}

fn table(rows: &[(&[&str], Option<i64>)]) -> Vec<(Vec<String>, Option<i64>)> {
    let mut t: Vec<_> = rows
        .iter()
        .map(|(k, n)| (k.iter().map(|s| s.to_string()).collect(), *n))
        .collect();
    t.sort();
    t
}

fn sorted(mut v: Vec<(Vec<String>, Option<i64>)>) -> Vec<(Vec<String>, Option<i64>)> {
    v.sort();
    v
}

/// §7: exact counts over the rows an agency answers for (MINE), network counts only from the
/// one frozen release of a whole closed period (the same answer for every kind and role, every
/// category listed), a network question without a period refused, and nothing for the platform
/// admin or anonymous callers.
async fn statistics(hub: TestHub) {
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "BG").await;
    let b = hub.agency("Ente B", "ENTE_ANTITRATTA", "BS").await;
    let c = hub.agency("Coordinamento", "COORDINAMENTO", "MI").await;
    let p = project(&hub, &c, &[&a]).await;
    let mut of_kind = BTreeMap::new();
    for kind in KINDS {
        let id = match kind {
            "ENTE_ANTITRATTA" => a.clone(),
            "COORDINAMENTO" => c.clone(),
            _ => hub.agency(&format!("Stat {kind}"), kind, "BG").await,
        };
        of_kind.insert(kind, id);
    }
    // (owner, gender, nationality, in the project, how many); all opened 2023-01-10.
    let rows: [(&str, &str, &str, bool, usize); 7] = [
        (a.as_str(), "FEMALE", "NG", true, 2),
        (a.as_str(), "FEMALE", "AL", false, 1),
        (a.as_str(), "MALE", "NG", true, 1),
        (a.as_str(), "TRANSGENDER", "BR", false, 2),
        (b.as_str(), "FEMALE", "NG", false, 1),
        (b.as_str(), "FEMALE", "AL", false, 1),
        (b.as_str(), "TRANSGENDER", "BR", false, 2),
    ];
    let mut n = 0;
    for (owner, gender, nationality, in_project, count) in rows {
        for _ in 0..count {
            n += 1;
            let mut extra = json!({ "gender": gender, "nationality": nationality });
            if in_project {
                extra["projectId"] = json!(p);
            }
            hub.case(owner, &format!("ST-{n:02}"), extra).await;
        }
    }
    let mine_a = table(&[
        (&["FEMALE"], Some(3)),
        (&["MALE"], Some(1)),
        (&["TRANSGENDER"], Some(2)),
    ]);
    let mine_c = table(&[(&["FEMALE"], Some(2)), (&["MALE"], Some(1))]);
    let gender = json!(["GENDER"]);
    let january = json!({ "openedFrom": "2023-01-01", "openedTo": "2023-01-31" });
    let mut network: Option<Vec<(Vec<String>, Option<i64>)>> = None;
    let mut failures = Vec::new();
    for kind in KINDS {
        for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
            let t = hub.token(Some(&of_kind[kind]), role);
            let what = format!("{kind} {}", role.as_str());
            let ask = |scope: Value, filter: Value| {
                hub.gql(
                    Some(&t),
                    STATS,
                    json!({ "g": gender, "s": scope, "f": filter }),
                )
            };
            // A network question names a whole closed period.
            let r = ask(json!("NETWORK"), Value::Null).await;
            if code(&r).as_deref() != Some("VALIDATION")
                || r["errors"][0]["extensions"]["field"] != "filter.openedFrom"
            {
                failures.push(format!("{what} NETWORK without a period: {r}"));
            }
            // Every caller reads the same release: every category, the same noisy counts.
            let r = ask(json!("NETWORK"), january.clone()).await;
            if r.get("errors").is_some() {
                failures.push(format!("{what} NETWORK January: {r}"));
            } else {
                let got = sorted(cells(&r));
                let keys: Vec<&str> = got.iter().map(|(k, _)| k[0].as_str()).collect();
                if keys != ["FEMALE", "MALE", "TRANSGENDER", "UNKNOWN"] {
                    failures.push(format!("{what} NETWORK categories: {keys:?}"));
                }
                match &network {
                    None => network = Some(got),
                    Some(first) if *first != got => {
                        failures.push(format!("{what} read another release: {got:?} vs {first:?}"))
                    }
                    Some(_) => {}
                }
            }
            let mine = match kind {
                "ENTE_ANTITRATTA" => Some(&mine_a),
                "COORDINAMENTO" => Some(&mine_c),
                _ => None,
            };
            let r = ask(json!("MINE"), Value::Null).await;
            match mine {
                Some(want) if r.get("errors").is_none() && sorted(cells(&r)) == *want => {}
                None if code(&r).as_deref() == Some("FORBIDDEN") => {}
                _ => failures.push(format!("{what} MINE: expected {mine:?}, got {r}")),
            }
            let r = ask(Value::Null, Value::Null).await;
            let ok = match mine {
                Some(want) => r.get("errors").is_none() && sorted(cells(&r)) == *want,
                None => code(&r).as_deref() == Some("VALIDATION"),
            };
            if !ok {
                failures.push(format!("{what} default scope: expected {mine:?}, got {r}"));
            }
        }
    }
    // No statistics for the platform admin or anonymous callers, at any scope.
    for scope in [json!("MINE"), json!("NETWORK"), Value::Null] {
        for t in [Some(hub.admin()), None] {
            let r = hub
                .gql(
                    t.as_deref(),
                    STATS,
                    json!({ "g": gender, "s": scope, "f": january }),
                )
                .await;
            if code(&r).as_deref() != Some("FORBIDDEN") {
                failures.push(format!(
                    "{} at scope {scope}: expected FORBIDDEN, got {r}",
                    if t.is_some() {
                        "platform admin"
                    } else {
                        "anonymous"
                    }
                ));
            }
        }
    }
    // An analyst gets statistics, and still no rows.
    let analyst = hub.token(Some(&a), UserRole::Analyst);
    let r = hub
        .ok(&analyst, "{ cases { totalCount } }", json!({}))
        .await;
    assert_eq!(r["cases"]["totalCount"], 0, "an analyst reads no rows");
    assert!(
        failures.is_empty(),
        "{} statistics answers break ACCESS.md §7:\n{}",
        failures.len(),
        failures.join("\n")
    );
    hub.finish().await;
}
hub_test!(statistics);

/// §1 and §8: what only the owning agency reads (its shelters) needs a role that gets rows. For
/// every owner-only field of the policy document: the owner's OPERATOR and COORDINATOR read it;
/// its ANALYST does not; a PLATFORM_ADMIN token naming the agency is refused outright (issue 19:
/// it read the agency's secret addresses); the platform admin and another agency read nothing.
async fn owner_only_fields_need_a_row_role(hub: TestHub) {
    let owned: Vec<(String, String)> = hub
        .hub
        .state
        .policy
        .classified_fields()
        .filter(|(_, _, c)| {
            *c == raccordo_policies::FieldClass::Network(raccordo_policies::NetworkClass::OwnerOnly)
        })
        .map(|(t, f, _)| (t.to_string(), f.to_string()))
        .collect();
    assert!(!owned.is_empty());
    // Every owner-only field is a shelter's: `myShelters` reaches each of them.
    assert!(owned.iter().all(|(t, _)| t == "Shelter"), "{owned:?}");
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let other = hub.agency("Altro", "ENTE_ANTITRATTA", "BG").await;
    shelter(&hub, &ente, "Casa Segreta").await;
    for (_, field) in &owned {
        let query = format!("{{ myShelters {{ {field} }} }}");
        let read = |token: String| {
            let query = query.clone();
            let hub = &hub;
            async move { hub.gql(Some(&token), &query, json!({})).await }
        };
        for role in [UserRole::Operator, UserRole::Coordinator] {
            let r = read(hub.token(Some(&ente), role)).await;
            let got = &r["data"]["myShelters"][0][field.as_str()];
            assert!(!got.is_null(), "{role:?} of the owner reads {field}: {r}");
        }
        let analyst = read(hub.token(Some(&ente), UserRole::Analyst)).await;
        assert!(
            !analyst.to_string().contains(SHELTER_ADDRESS)
                && !analyst.to_string().contains("Casa Segreta"),
            "the owner's analyst reads {field}: {analyst}"
        );
        assert_eq!(code(&analyst).as_deref(), Some("FORBIDDEN"), "{analyst}");
        let admin_of = read(hub.token(Some(&ente), UserRole::PlatformAdmin)).await;
        expect_code(
            &admin_of,
            "UNAUTHENTICATED",
            "a platform admin naming the owner",
        );
        for token in [hub.admin(), hub.token(Some(&other), UserRole::Coordinator)] {
            let r = read(token).await;
            assert!(
                !r.to_string().contains(SHELTER_ADDRESS) && !r.to_string().contains("Casa Segreta"),
                "{field}: {r}"
            );
        }
    }
    hub.finish().await;
}
hub_test!(owner_only_fields_need_a_row_role);
