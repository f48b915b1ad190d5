//! The inputs of case work: a new case (`CaseInput`) and a change to one (`CasePatch`), with
//! their validation. Every failure names the input path (`input.nationality`, `patch.phone`).

use async_graphql::{InputObject, MaybeUndefined, ID};
use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::case;
use sea_orm::ActiveValue::Set;

use super::{
    enums::{AgeGroup, CasePhase, EmersionChannel, Exploitation, Gender, PermitType},
    scalars::Date,
};
use crate::{
    access::local_date,
    error::{ApiError, ApiResult},
    validate,
};

/// A new case. The owner is the viewer's agency.
#[derive(InputObject)]
pub struct CaseInput {
    /// Pseudonymous code, unique in the hub.
    pub code: String,
    /// Phase the pathway starts in.
    pub phase: CasePhase,
    /// When the case was opened (not in the future).
    pub opened_on: Date,
    /// The project the case belongs to.
    pub project_id: Option<ID>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Adult or minor.
    pub age_group: Option<AgeGroup>,
    /// Nationality, ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
    /// Types of exploitation.
    pub exploitation: Option<Vec<Exploitation>>,
    /// How the person came to light.
    pub emersion_channel: Option<EmersionChannel>,
    /// Province where the person came to light.
    pub emersion_province: Option<String>,
    /// Number of accompanying minors.
    pub accompanying_minors: Option<i32>,
    /// Whether the person is pregnant.
    pub pregnant: Option<bool>,
    /// Name the person goes by.
    pub alias: Option<String>,
    /// Legal name.
    pub legal_name: Option<String>,
    /// Birth date.
    pub birth_date: Option<Date>,
    /// Telephone.
    pub phone: Option<String>,
    /// A shelter of the viewer's agency.
    pub shelter_id: Option<ID>,
    /// Permit at the start.
    pub permit_at_start: Option<PermitType>,
    /// Current permit.
    pub permit_current: Option<PermitType>,
    /// When the current permit expires.
    pub permit_expires_on: Option<Date>,
    /// Asylum procedure status.
    pub asylum_status: Option<String>,
    /// Whether a complaint was filed.
    pub complaint_filed: Option<bool>,
    /// When the complaint was filed.
    pub complaint_filed_on: Option<Date>,
    /// Health notes.
    pub health_notes: Option<String>,
    /// Psychological support.
    pub psych_support: Option<String>,
    /// Gender-based-violence indicators.
    pub gbv_indicators: Option<Vec<String>>,
    /// Gender-based-violence risk level.
    pub gbv_risk_level: Option<String>,
}

impl CaseInput {
    /// A new case with only the required fields; the rest can be set on the value.
    pub fn new(code: String, phase: CasePhase, opened_on: NaiveDate) -> Self {
        CaseInput {
            code,
            phase,
            opened_on: Date(opened_on),
            project_id: None,
            gender: None,
            age_group: None,
            nationality: None,
            exploitation: None,
            emersion_channel: None,
            emersion_province: None,
            accompanying_minors: None,
            pregnant: None,
            alias: None,
            legal_name: None,
            birth_date: None,
            phone: None,
            shelter_id: None,
            permit_at_start: None,
            permit_current: None,
            permit_expires_on: None,
            asylum_status: None,
            complaint_filed: None,
            complaint_filed_on: None,
            health_notes: None,
            psych_support: None,
            gbv_indicators: None,
            gbv_risk_level: None,
        }
    }
}

/// Changes to a case: only the fields present are changed; `null` clears a field.
#[derive(InputObject, Default)]
pub struct CasePatch {
    /// The owner's own code for the case (unique among its cases), e.g. to replace the automatic
    /// `REF-…` code of a case opened on a referral.
    pub code: Option<String>,
    /// New phase (use `closeCase` to close). Going back needs `phaseReason`.
    pub phase: MaybeUndefined<CasePhase>,
    /// Why the phase goes back (required when it does).
    pub phase_reason: Option<String>,
    /// Nationality, ISO 3166-1 alpha-2.
    pub nationality: MaybeUndefined<String>,
    /// Gender.
    pub gender: MaybeUndefined<Gender>,
    /// Adult or minor.
    pub age_group: MaybeUndefined<AgeGroup>,
    /// Types of exploitation (replaces the list).
    pub exploitation: MaybeUndefined<Vec<Exploitation>>,
    /// How the person came to light.
    pub emersion_channel: MaybeUndefined<EmersionChannel>,
    /// Province where the person came to light.
    pub emersion_province: MaybeUndefined<String>,
    /// Number of accompanying minors.
    pub accompanying_minors: MaybeUndefined<i32>,
    /// Whether the person is pregnant.
    pub pregnant: MaybeUndefined<bool>,
    /// Name the person goes by.
    pub alias: MaybeUndefined<String>,
    /// Legal name.
    pub legal_name: MaybeUndefined<String>,
    /// Birth date.
    pub birth_date: MaybeUndefined<Date>,
    /// Telephone.
    pub phone: MaybeUndefined<String>,
    /// A shelter of the owner's agency.
    pub shelter_id: MaybeUndefined<ID>,
    /// Permit at the start.
    pub permit_at_start: MaybeUndefined<PermitType>,
    /// Current permit.
    pub permit_current: MaybeUndefined<PermitType>,
    /// When the current permit expires.
    pub permit_expires_on: MaybeUndefined<Date>,
    /// Asylum procedure status.
    pub asylum_status: MaybeUndefined<String>,
    /// Whether a complaint was filed.
    pub complaint_filed: MaybeUndefined<bool>,
    /// When the complaint was filed.
    pub complaint_filed_on: MaybeUndefined<Date>,
    /// Health notes.
    pub health_notes: MaybeUndefined<String>,
    /// Psychological support.
    pub psych_support: MaybeUndefined<String>,
    /// Gender-based-violence indicators.
    pub gbv_indicators: MaybeUndefined<Vec<String>>,
    /// Gender-based-violence risk level.
    pub gbv_risk_level: MaybeUndefined<String>,
}

/// Turns a patch into column changes, naming every contract field it touches.
pub(super) struct Changes {
    pub(super) row: case::ActiveModel,
    pub(super) fields: Vec<&'static str>,
    pub(super) exploitation: Option<Vec<Exploitation>>,
}

pub(super) fn value<T, U>(
    m: &MaybeUndefined<T>,
    f: impl FnOnce(&T) -> ApiResult<U>,
) -> ApiResult<Option<Option<U>>> {
    match m {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => Ok(Some(Some(f(v)?))),
    }
}

fn text_field(path: &'static str) -> impl Fn(&String) -> ApiResult<String> {
    move |v| validate::text(path, v)
}

macro_rules! patch_field {
    ($changes:ident, $patch:ident . $field:ident, $name:literal, $col:ident, $conv:expr) => {
        if let Some(v) = value(&$patch.$field, $conv)? {
            $changes.row.$col = Set(v);
            $changes.fields.push($name);
        }
    };
}

pub(super) fn changes(p: &CasePatch) -> ApiResult<Changes> {
    let mut c = Changes {
        row: case::ActiveModel::default(),
        fields: Vec::new(),
        exploitation: None,
    };
    if let Some(code) = &p.code {
        c.row.code = Set(validate::required("patch.code", code)?);
        c.fields.push("code");
    }
    patch_field!(
        c,
        p.nationality,
        "nationality",
        nationality,
        |v: &String| validate::nationality("patch.nationality", v)
    );
    patch_field!(c, p.gender, "gender", gender, |v: &Gender| Ok(v
        .as_str()
        .to_string()));
    patch_field!(c, p.age_group, "ageGroup", age_group, |v: &AgeGroup| Ok(v
        .as_str()
        .to_string()));
    patch_field!(
        c,
        p.emersion_channel,
        "emersionChannel",
        emersion_channel,
        |v: &EmersionChannel| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.emersion_province,
        "emersionProvince",
        emersion_province,
        |v: &String| validate::province("patch.emersionProvince", v)
    );
    patch_field!(
        c,
        p.accompanying_minors,
        "accompanyingMinors",
        accompanying_minors,
        |v: &i32| validate::count("patch.accompanyingMinors", *v)
    );
    patch_field!(c, p.pregnant, "pregnant", pregnant, |v: &bool| Ok(*v));
    patch_field!(c, p.alias, "alias", alias, text_field("patch.alias"));
    patch_field!(
        c,
        p.legal_name,
        "legalName",
        legal_name,
        text_field("patch.legalName")
    );
    patch_field!(c, p.birth_date, "birthDate", birth_date, |v: &Date| Ok(v.0));
    patch_field!(c, p.phone, "phone", phone, text_field("patch.phone"));
    patch_field!(c, p.shelter_id, "shelter", shelter_id, |v: &ID| Ok(
        v.to_string()
    ));
    patch_field!(
        c,
        p.permit_at_start,
        "permitAtStart",
        permit_at_start,
        |v: &PermitType| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.permit_current,
        "permitCurrent",
        permit_current,
        |v: &PermitType| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.permit_expires_on,
        "permitExpiresOn",
        permit_expires_on,
        |v: &Date| Ok(v.0)
    );
    patch_field!(
        c,
        p.asylum_status,
        "asylumStatus",
        asylum_status,
        text_field("patch.asylumStatus")
    );
    patch_field!(
        c,
        p.complaint_filed,
        "complaintFiled",
        complaint_filed,
        |v: &bool| Ok(*v)
    );
    patch_field!(
        c,
        p.complaint_filed_on,
        "complaintFiledOn",
        complaint_filed_on,
        |v: &Date| Ok(v.0)
    );
    patch_field!(
        c,
        p.health_notes,
        "healthNotes",
        health_notes,
        text_field("patch.healthNotes")
    );
    patch_field!(
        c,
        p.psych_support,
        "psychSupport",
        psych_support,
        text_field("patch.psychSupport")
    );
    patch_field!(
        c,
        p.gbv_indicators,
        "gbvIndicators",
        gbv_indicators,
        |v: &Vec<String>| gbv_json("patch.gbvIndicators", v)
    );
    patch_field!(
        c,
        p.gbv_risk_level,
        "gbvRiskLevel",
        gbv_risk_level,
        text_field("patch.gbvRiskLevel")
    );
    match &p.exploitation {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            c.exploitation = Some(Vec::new());
            c.fields.push("exploitation");
        }
        MaybeUndefined::Value(v) => {
            c.exploitation = Some(v.clone());
            c.fields.push("exploitation");
        }
    }
    Ok(c)
}

pub(super) fn gbv_json(path: &str, items: &[String]) -> ApiResult<String> {
    for i in items {
        validate::text(path, i)?;
    }
    serde_json::to_string(items).map_err(|e| ApiError::Internal(e.to_string().into()))
}

/// Validates a new case and builds its row; every failure names `input.<field>`.
pub(super) fn new_case_row(
    input: &CaseInput,
    owner: &str,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<case::ActiveModel> {
    let today = local_date(now);
    let code = validate::required("input.code", &input.code)?;
    validate::not_future("input.openedOn", input.opened_on.0, today)?;
    if input.phase == CasePhase::Closed {
        return Err(ApiError::validation(
            "input.phase",
            "a case cannot start closed",
        ));
    }
    Ok(case::ActiveModel {
        id: Set(id.to_string()),
        code: Set(code),
        owner_id: Set(owner.to_string()),
        project_id: Set(input.project_id.as_ref().map(|p| p.to_string())),
        phase: Set(input.phase.as_str().to_string()),
        opened_on: Set(input.opened_on.0),
        closed_on: Set(None),
        version: Set(1),
        gender: Set(input.gender.map(|g| g.as_str().to_string())),
        age_group: Set(input.age_group.map(|g| g.as_str().to_string())),
        nationality: Set(input
            .nationality
            .as_deref()
            .map(|n| validate::nationality("input.nationality", n))
            .transpose()?),
        emersion_channel: Set(input.emersion_channel.map(|g| g.as_str().to_string())),
        emersion_province: Set(input
            .emersion_province
            .as_deref()
            .map(|p| validate::province("input.emersionProvince", p))
            .transpose()?),
        accompanying_minors: Set(input
            .accompanying_minors
            .map(|n| validate::count("input.accompanyingMinors", n))
            .transpose()?),
        pregnant: Set(input.pregnant),
        alias: Set(validate::opt_text("input.alias", &input.alias)?),
        legal_name: Set(validate::opt_text("input.legalName", &input.legal_name)?),
        birth_date: Set(input
            .birth_date
            .map(|d| validate::not_future("input.birthDate", d.0, today))
            .transpose()?),
        phone: Set(validate::opt_text("input.phone", &input.phone)?),
        shelter_id: Set(input.shelter_id.as_ref().map(|s| s.to_string())),
        permit_at_start: Set(input.permit_at_start.map(|g| g.as_str().to_string())),
        permit_current: Set(input.permit_current.map(|g| g.as_str().to_string())),
        permit_expires_on: Set(input.permit_expires_on.map(|d| d.0)),
        asylum_status: Set(validate::opt_text(
            "input.asylumStatus",
            &input.asylum_status,
        )?),
        complaint_filed: Set(input.complaint_filed),
        complaint_filed_on: Set(input
            .complaint_filed_on
            .map(|d| validate::not_future("input.complaintFiledOn", d.0, today))
            .transpose()?),
        health_notes: Set(validate::opt_text(
            "input.healthNotes",
            &input.health_notes,
        )?),
        psych_support: Set(validate::opt_text(
            "input.psychSupport",
            &input.psych_support,
        )?),
        gbv_indicators: Set(input
            .gbv_indicators
            .as_deref()
            .map(|g| gbv_json("input.gbvIndicators", g))
            .transpose()?),
        gbv_risk_level: Set(validate::opt_text(
            "input.gbvRiskLevel",
            &input.gbv_risk_level,
        )?),
        outcome: Set(None),
        outcome_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// The contract fields a patch touches (phase aside), before any value is looked at: permission
/// is decided on these first, so the answer to a change one may not make never depends on the
/// values sent.
/// The `CasePatch` fields other than `phase` (changed through its own action), each with the
/// case field the protocol decides it by (`shelterId` sets `shelter`).
pub(crate) const PATCH_FIELDS: [(&str, &str); 24] = [
    ("code", "code"),
    ("nationality", "nationality"),
    ("gender", "gender"),
    ("ageGroup", "ageGroup"),
    ("exploitation", "exploitation"),
    ("emersionChannel", "emersionChannel"),
    ("emersionProvince", "emersionProvince"),
    ("accompanyingMinors", "accompanyingMinors"),
    ("pregnant", "pregnant"),
    ("alias", "alias"),
    ("legalName", "legalName"),
    ("birthDate", "birthDate"),
    ("phone", "phone"),
    ("shelterId", "shelter"),
    ("permitAtStart", "permitAtStart"),
    ("permitCurrent", "permitCurrent"),
    ("permitExpiresOn", "permitExpiresOn"),
    ("asylumStatus", "asylumStatus"),
    ("complaintFiled", "complaintFiled"),
    ("complaintFiledOn", "complaintFiledOn"),
    ("healthNotes", "healthNotes"),
    ("psychSupport", "psychSupport"),
    ("gbvIndicators", "gbvIndicators"),
    ("gbvRiskLevel", "gbvRiskLevel"),
];

/// The input path of the patch field that sets case field `field` (for errors).
pub(super) fn patch_path(field: &str) -> String {
    let name = PATCH_FIELDS
        .iter()
        .find(|(_, f)| *f == field)
        .map_or(field, |(p, _)| *p);
    format!("patch.{name}")
}

pub(super) fn touched_fields(p: &CasePatch) -> Vec<&'static str> {
    [
        p.code.is_some().then_some("code"),
        (!p.nationality.is_undefined()).then_some("nationality"),
        (!p.gender.is_undefined()).then_some("gender"),
        (!p.age_group.is_undefined()).then_some("ageGroup"),
        (!p.exploitation.is_undefined()).then_some("exploitation"),
        (!p.emersion_channel.is_undefined()).then_some("emersionChannel"),
        (!p.emersion_province.is_undefined()).then_some("emersionProvince"),
        (!p.accompanying_minors.is_undefined()).then_some("accompanyingMinors"),
        (!p.pregnant.is_undefined()).then_some("pregnant"),
        (!p.alias.is_undefined()).then_some("alias"),
        (!p.legal_name.is_undefined()).then_some("legalName"),
        (!p.birth_date.is_undefined()).then_some("birthDate"),
        (!p.phone.is_undefined()).then_some("phone"),
        (!p.shelter_id.is_undefined()).then_some("shelter"),
        (!p.permit_at_start.is_undefined()).then_some("permitAtStart"),
        (!p.permit_current.is_undefined()).then_some("permitCurrent"),
        (!p.permit_expires_on.is_undefined()).then_some("permitExpiresOn"),
        (!p.asylum_status.is_undefined()).then_some("asylumStatus"),
        (!p.complaint_filed.is_undefined()).then_some("complaintFiled"),
        (!p.complaint_filed_on.is_undefined()).then_some("complaintFiledOn"),
        (!p.health_notes.is_undefined()).then_some("healthNotes"),
        (!p.psych_support.is_undefined()).then_some("psychSupport"),
        (!p.gbv_indicators.is_undefined()).then_some("gbvIndicators"),
        (!p.gbv_risk_level.is_undefined()).then_some("gbvRiskLevel"),
    ]
    .into_iter()
    .flatten()
    .collect()
}
