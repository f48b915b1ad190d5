//! One canonical text per cell, shared by the export (what it writes) and the import (to tell an
//! unchanged row from a different one): dates `YYYY-MM-DD`, yes/no `true`/`false`, enums in the
//! contract spelling, lists sorted (exploitation) or in order (GBV indicators) joined by `|`.

use chrono::NaiveDate;
use raccordo_entities::case;

use super::values;
use crate::domain::case_input::CaseInput;

/// The separator the export writes inside multi-valued cells (`;` would clash with the delimiter
/// of Italian spreadsheets).
pub const LIST_SEPARATOR: &str = "|";

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn yes_no(b: Option<bool>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

fn text(t: &Option<String>) -> String {
    t.clone().unwrap_or_default()
}

fn sorted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let set: std::collections::BTreeSet<&str> = items.collect();
    set.into_iter().collect::<Vec<_>>().join(LIST_SEPARATOR)
}

/// The GBV indicators as stored (a JSON array of strings).
fn gbv(stored: &Option<String>) -> String {
    stored
        .as_deref()
        .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        .map(|items| values::text_cell(items.iter().map(String::as_str)))
        .unwrap_or_default()
}

/// The cell of column `name` for a stored case (`exploitation`: its types).
pub fn stored(c: &case::Model, exploitation: &[String], name: &str) -> String {
    match name {
        "code" => c.code.clone(),
        "phase" => c.phase.clone(),
        "openedOn" => date(Some(c.opened_on)),
        "projectId" => text(&c.project_id),
        "gender" => text(&c.gender),
        "ageGroup" => text(&c.age_group),
        "nationality" => text(&c.nationality),
        "exploitation" => sorted_list(exploitation.iter().map(String::as_str)),
        "emersionChannel" => text(&c.emersion_channel),
        "emersionProvince" => text(&c.emersion_province),
        "accompanyingMinors" => c
            .accompanying_minors
            .map(|n| n.to_string())
            .unwrap_or_default(),
        "pregnant" => yes_no(c.pregnant),
        "alias" => text(&c.alias),
        "legalName" => text(&c.legal_name),
        "birthDate" => date(c.birth_date),
        "phone" => text(&c.phone),
        "shelterId" => text(&c.shelter_id),
        "permitAtStart" => text(&c.permit_at_start),
        "permitCurrent" => text(&c.permit_current),
        "permitExpiresOn" => date(c.permit_expires_on),
        "asylumStatus" => text(&c.asylum_status),
        "complaintFiled" => yes_no(c.complaint_filed),
        "complaintFiledOn" => date(c.complaint_filed_on),
        "healthNotes" => text(&c.health_notes),
        "psychSupport" => text(&c.psych_support),
        "gbvIndicators" => gbv(&c.gbv_indicators),
        "gbvRiskLevel" => text(&c.gbv_risk_level),
        "closedOn" => date(c.closed_on),
        "outcome" => text(&c.outcome),
        _ => String::new(),
    }
}

/// The cell of column `name` for a case about to be opened, as [`stored`] would write it.
pub fn input(i: &CaseInput, name: &str) -> String {
    let id = |v: &Option<async_graphql::ID>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    match name {
        "code" => i.code.trim().to_string(),
        "phase" => i.phase.as_str().to_string(),
        "openedOn" => date(Some(i.opened_on.0)),
        "projectId" => id(&i.project_id),
        "gender" => i.gender.map(|v| v.as_str().to_string()).unwrap_or_default(),
        "ageGroup" => i
            .age_group
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        "nationality" => text(&i.nationality),
        "exploitation" => sorted_list(i.exploitation.iter().flatten().map(|e| e.as_str())),
        "emersionChannel" => i
            .emersion_channel
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        "emersionProvince" => text(&i.emersion_province),
        "accompanyingMinors" => i
            .accompanying_minors
            .map(|n| n.to_string())
            .unwrap_or_default(),
        "pregnant" => yes_no(i.pregnant),
        "alias" => text(&i.alias),
        "legalName" => text(&i.legal_name),
        "birthDate" => date(i.birth_date.map(|d| d.0)),
        "phone" => text(&i.phone),
        "shelterId" => id(&i.shelter_id),
        "permitAtStart" => i
            .permit_at_start
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        "permitCurrent" => i
            .permit_current
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        "permitExpiresOn" => date(i.permit_expires_on.map(|d| d.0)),
        "asylumStatus" => text(&i.asylum_status),
        "complaintFiled" => yes_no(i.complaint_filed),
        "complaintFiledOn" => date(i.complaint_filed_on.map(|d| d.0)),
        "healthNotes" => text(&i.health_notes),
        "psychSupport" => text(&i.psych_support),
        "gbvIndicators" => i
            .gbv_indicators
            .as_ref()
            .map(|g| values::text_cell(g.iter().map(String::as_str)))
            .unwrap_or_default(),
        "gbvRiskLevel" => text(&i.gbv_risk_level),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enums::{CasePhase, Exploitation};

    #[test]
    fn every_case_column_renders_the_same_from_input_and_from_storage() {
        let day = NaiveDate::from_ymd_opt(2023, 1, 10).unwrap_or_default();
        let mut i = CaseInput::new("C-1".into(), CasePhase::PrimaAccoglienza, day);
        i.exploitation = Some(vec![Exploitation::Labour, Exploitation::SexualStreet]);
        i.gbv_indicators = Some(vec!["b".into(), "a".into()]);
        i.pregnant = Some(false);
        let now = chrono::Utc::now();
        let c = case::Model {
            id: "x".into(),
            code: "C-1".into(),
            owner_id: "o".into(),
            project_id: None,
            phase: "PRIMA_ACCOGLIENZA".into(),
            opened_on: day,
            closed_on: None,
            version: 1,
            gender: None,
            age_group: None,
            nationality: None,
            emersion_channel: None,
            emersion_province: None,
            accompanying_minors: None,
            pregnant: Some(false),
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
            gbv_indicators: Some("[\"b\",\"a\"]".into()),
            gbv_risk_level: None,
            outcome: None,
            outcome_on: None,
            created_at: now,
            updated_at: now,
        };
        let types = vec!["SEXUAL_STREET".to_string(), "LABOUR".to_string()];
        for col in super::super::columns::CASE_COLUMNS {
            assert_eq!(
                stored(&c, &types, col.name),
                input(&i, col.name),
                "{}",
                col.name
            );
        }
        assert_eq!(stored(&c, &types, "exploitation"), "LABOUR|SEXUAL_STREET");
        assert_eq!(stored(&c, &types, "gbvIndicators"), "b|a");
    }
}
