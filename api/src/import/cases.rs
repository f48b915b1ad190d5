//! Importing cases: every row becomes a `CaseInput` opened with `open_case`, all in one write
//! transaction, so the rules, checks and access-log entries are exactly those of `createCase`.

use std::collections::{BTreeMap, HashMap};

use async_graphql::ID;
use chrono::{DateTime, NaiveDate, Utc};
use csv::StringRecord;
use raccordo_entities::{case, case_exploitation, project, shelter};
use raccordo_policies::{ClassSet, DataClass, FieldClass, Relationship, RelationshipSet};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{
    columns::{Cells, Column, Header, CASE_COLUMNS},
    finish, record,
    report::{Rejection, Report},
    source, values, Options, ReferenceList,
};
use crate::{
    access::Principal,
    audit::NewEntry,
    domain::{
        case_input::CaseInput,
        cases::{close_imported, open_case},
        enums::{
            AgeGroup, CaseOutcome, CasePhase, EmersionChannel, Exploitation, Gender, PermitType,
        },
        scalars::Date,
    },
    error::{ApiError, ApiResult},
    state::AppState,
    validate,
};

/// How many keys go into one `IN (...)` list: well under SQLite's and PostgreSQL's limits.
pub(super) const CHUNK: usize = 500;

/// A row that parsed: the input to open, the names it gives for its project and shelter, and
/// how the case ended when the row is of a closed case (from an export).
struct Parsed {
    row: usize,
    input: CaseInput,
    project: Option<String>,
    shelter: Option<String>,
    closed_on: Option<NaiveDate>,
    outcome: Option<CaseOutcome>,
}

impl Parsed {
    /// The row's cell for column `name`, as the export would write it.
    fn cell(&self, name: &str) -> String {
        match name {
            "closedOn" => self
                .closed_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            "outcome" => self
                .outcome
                .map(|o| o.as_str().to_string())
                .unwrap_or_default(),
            other => record::input(&self.input, other),
        }
    }

    /// Why a row that is not in the hub yet cannot be opened as written, if it cannot. A closed
    /// case needs the day it was closed and its outcome, as `closeCase` does.
    fn closed_problems(&self, header: &Header, today: NaiveDate) -> Vec<Rejection> {
        let mut out = Vec::new();
        if self.input.phase == CasePhase::Closed {
            let mut need = |name: &str, reason: String| {
                out.push(Rejection::new(self.row, Some(header.label(name)), reason));
            };
            match self.closed_on {
                None => need(
                    "closedOn",
                    "a closed case needs the day it was closed".into(),
                ),
                Some(d) if d < self.input.opened_on.0 => need(
                    "closedOn",
                    format!(
                        "closedOn ({d}) is before openedOn ({})",
                        self.input.opened_on.0
                    ),
                ),
                Some(d) if d > today => {
                    need("closedOn", format!("closedOn ({d}) is in the future"))
                }
                Some(_) => {}
            }
            if self.outcome.is_none() {
                need("outcome", "a closed case needs its outcome".into());
            }
        } else {
            for (name, set) in [
                ("closedOn", self.closed_on.is_some()),
                ("outcome", self.outcome.is_some()),
            ] {
                if set {
                    out.push(Rejection::new(
                        self.row,
                        Some(header.label(name)),
                        "the export writes this for closed cases; a case in an open phase has none, so leave it empty",
                    ));
                }
            }
        }
        out
    }
}

fn province(cell: &str) -> Result<String, String> {
    validate::province("", cell).map_err(|e| e.to_string())
}

/// Reads one row into a `CaseInput`, or every problem it has.
fn parse_row(header: &Header, row: usize, record: &StringRecord) -> Result<Parsed, Vec<Rejection>> {
    let mut c = Cells::new(header, record, row);
    let code = c.required("code", |v| Ok(v.to_string()));
    let phase = c.required("phase", values::label::<CasePhase>);
    let opened_on = c.required("openedOn", values::date);
    // A closed case is only accepted when the agency already holds it as written (an export
    // imported again); whether it does is known once the hub is asked, below.
    let closed_on = c.parse("closedOn", values::date);
    let outcome = c.parse("outcome", values::label::<CaseOutcome>);
    let mut input = CaseInput::new(
        code.clone().unwrap_or_default(),
        phase.unwrap_or(CasePhase::ProntoIntervento),
        opened_on.unwrap_or_default(),
    );
    input.gender = c.parse("gender", values::label::<Gender>);
    input.age_group = c.parse("ageGroup", values::label::<AgeGroup>);
    input.nationality = c.parse("nationality", values::nationality);
    input.exploitation = c.parse("exploitation", |v| {
        values::items(v)
            .into_iter()
            .map(values::label::<Exploitation>)
            .collect::<Result<Vec<_>, _>>()
    });
    input.emersion_channel = c.parse("emersionChannel", values::label::<EmersionChannel>);
    input.emersion_province = c.parse("emersionProvince", province);
    input.accompanying_minors = c.parse("accompanyingMinors", values::count);
    input.pregnant = c.parse("pregnant", values::yes_no);
    input.alias = c.text("alias");
    input.legal_name = c.text("legalName");
    input.birth_date = c.parse("birthDate", values::date).map(Date);
    input.phone = c.text("phone");
    input.permit_at_start = c.parse("permitAtStart", values::label::<PermitType>);
    input.permit_current = c.parse("permitCurrent", values::label::<PermitType>);
    input.permit_expires_on = c.parse("permitExpiresOn", values::date).map(Date);
    input.asylum_status = c.text("asylumStatus");
    input.complaint_filed = c.parse("complaintFiled", values::yes_no);
    input.complaint_filed_on = c.parse("complaintFiledOn", values::date).map(Date);
    input.health_notes = c.text("healthNotes");
    input.psych_support = c.text("psychSupport");
    input.gbv_indicators = c.text("gbvIndicators").map(|v| values::text_items(&v));
    input.gbv_risk_level = c.text("gbvRiskLevel");
    if !c.problems.is_empty() || code.is_none() || phase.is_none() || opened_on.is_none() {
        return Err(c.problems);
    }
    Ok(Parsed {
        row,
        input,
        project: c.text("projectId"),
        shelter: c.text("shelterId"),
        closed_on,
        outcome,
    })
}

/// Rejects every row whose code is also on another row: which of them is right is for the
/// person who keeps the file to say, so none is imported.
fn drop_duplicates(parsed: Vec<Parsed>, header: &Header, report: &mut Report) -> Vec<Parsed> {
    let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for p in &parsed {
        rows_of.entry(p.input.code.clone()).or_default().push(p.row);
    }
    let label = header.label("code");
    parsed
        .into_iter()
        .filter(|p| {
            let Some(rows) = rows_of.get(&p.input.code).filter(|r| r.len() > 1) else {
                return true;
            };
            let others: Vec<String> = rows
                .iter()
                .filter(|r| **r != p.row)
                .map(|r| r.to_string())
                .collect();
            report.rejected.push(Rejection::new(
                p.row,
                Some(label.clone()),
                format!(
                    "code {:?} is also on row {}: a code names one case",
                    p.input.code,
                    others.join(", ")
                ),
            ));
            false
        })
        .collect()
}

/// The cases `owner` already holds under one of `codes`, with their exploitation types.
async fn existing<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    codes: Vec<String>,
) -> ApiResult<HashMap<String, (case::Model, Vec<String>)>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(CHUNK) {
        let rows = case::Entity::find()
            .filter(case::Column::OwnerId.eq(owner))
            .filter(case::Column::Code.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut types: HashMap<String, Vec<String>> = HashMap::new();
        if !ids.is_empty() {
            for e in case_exploitation::Entity::find()
                .filter(case_exploitation::Column::CaseId.is_in(ids))
                .all(db)
                .await?
            {
                types.entry(e.case_id).or_default().push(e.exploitation);
            }
        }
        for row in rows {
            let t = types.remove(&row.id).unwrap_or_default();
            out.insert(row.code.clone(), (row, t));
        }
    }
    Ok(out)
}

/// The class of a case column: its `CaseInput` field's, or, for the columns only the export
/// writes (`closedOn`, `outcome`), its `Case` field's.
fn column_class(state: &AppState, name: &str) -> Option<DataClass> {
    match state
        .policy
        .class_of("CaseInput", name)
        .or_else(|| state.policy.class_of("Case", name))
    {
        Some(FieldClass::Case(class)) => Some(class),
        _ => None,
    }
}

/// The column a validation error of `open_case` (`input.nationality`) is about, as the file names it.
fn column_of(header: &Header, field: &str) -> String {
    header.label(field.strip_prefix("input.").unwrap_or(field))
}

/// Imports the cases of a CSV file for `principal`'s agency (see the module docs of `import`).
pub async fn import_cases(
    state: &AppState,
    principal: &Principal,
    bytes: &[u8],
    now: DateTime<Utc>,
    opts: &Options,
) -> ApiResult<Report> {
    let today = crate::access::local_date(now);
    let owner = principal
        .agency_id()
        .ok_or_else(|| ApiError::Forbidden("only a partner agency imports cases".into()))?
        .to_string();
    if !state.policy.may_create_case(&principal.viewer()) {
        return Err(ApiError::Forbidden(
            "your agency or role cannot hold cases under the protocol".into(),
        ));
    }
    let text = match source::decode(bytes) {
        Ok(t) => t,
        Err(problem) => return Ok(Report::refused(vec![problem], opts.dry_run)),
    };
    let table = match source::read(&text, opts.delimiter) {
        Ok(t) => t,
        Err(problem) => return Ok(Report::refused(vec![problem], opts.dry_run)),
    };
    let header = match Header::resolve(CASE_COLUMNS, &table.header) {
        Ok(h) => h,
        Err(problems) => return Ok(Report::refused(problems, opts.dry_run)),
    };
    let mut report = Report {
        dry_run: opts.dry_run,
        rejected: table.unreadable,
        ..Report::default()
    };
    let mut parsed = Vec::new();
    for (row, record) in &table.rows {
        match parse_row(&header, *row, record) {
            Ok(p) => parsed.push(p),
            Err(problems) => report.rejected.extend(problems),
        }
    }
    let parsed = drop_duplicates(parsed, &header, &mut report);

    let w = state.write().await?;
    let projects: ReferenceList = project::Entity::find()
        .all(w.txn())
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let shelters: ReferenceList = shelter::Entity::find()
        .filter(shelter::Column::OwnerId.eq(owner.as_str()))
        .all(w.txn())
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let stored = existing(
        w.txn(),
        &owner,
        parsed.iter().map(|p| p.input.code.clone()).collect(),
    )
    .await?;
    // The classes a comparison with a stored case reads: those of the file's columns beyond
    // BASE that the viewer may read as the owner. A column it may not read is not compared.
    let owner_rels = RelationshipSet::empty().with(Relationship::Owner);
    let readable = state
        .policy
        .readable_classes(&principal.viewer(), owner_rels);
    let compared_columns: Vec<&Column> = CASE_COLUMNS
        .iter()
        .filter(|c| header.has(c.name))
        .filter(|c| column_class(state, c.name).is_some_and(|k| readable.contains(k)))
        .collect();
    let compared: ClassSet = compared_columns
        .iter()
        .filter_map(|c| column_class(state, c.name))
        .filter(|k| *k != DataClass::Base)
        .collect();
    let mut reads = Vec::new();
    for mut p in parsed {
        let project = p
            .project
            .as_deref()
            .map(|v| super::resolve(&projects, "project", v));
        let shelter = p
            .shelter
            .as_deref()
            .map(|v| super::resolve(&shelters, "shelter of your agency", v));
        let mut bad = false;
        for (name, r) in [("projectId", &project), ("shelterId", &shelter)] {
            if let Some(Err(reason)) = r {
                report.rejected.push(Rejection::new(
                    p.row,
                    Some(header.label(name)),
                    reason.clone(),
                ));
                bad = true;
            }
        }
        if bad {
            continue;
        }
        p.input.project_id = project.and_then(Result::ok).map(ID);
        p.input.shelter_id = shelter.and_then(Result::ok).map(ID);
        // Only the agency's own cases make a row "unchanged"; a code used by a case the agency
        // does not hold is left to `open_case`, which answers exactly as `createCase` does.
        if let Some((model, types)) = stored.get(&p.input.code) {
            if !compared.is_empty() {
                reads.push(NewEntry {
                    user_id: principal.user_id.clone(),
                    agency_id: Some(owner.clone()),
                    role: principal.role,
                    case_id: Some(model.id.clone()),
                    operation: super::COMPARE_OPERATION.into(),
                    relationships: owner_rels,
                    classes: compared,
                    detail: None,
                });
            }
            let differ: Vec<String> = compared_columns
                .iter()
                .filter(|c| record::stored(model, types, c.name) != p.cell(c.name))
                .map(|c| header.label(c.name))
                .collect();
            if differ.is_empty() {
                report.unchanged += 1;
            } else {
                report.rejected.push(Rejection::new(
                    p.row,
                    differ.first().cloned(),
                    format!(
                        "a case with this code is already in the hub and its values differ in: {}; an import never changes an existing case in this version (change it in the hub)",
                        differ.join(", ")
                    ),
                ));
            }
            continue;
        }
        let problems = p.closed_problems(&header, today);
        if !problems.is_empty() {
            report.rejected.extend(problems);
            continue;
        }
        // A closed case is opened in the first phase, then closed as `closeCase` would, so its
        // history records the closure.
        let closure = p.closed_on.zip(p.outcome);
        if closure.is_some() {
            p.input.phase = CasePhase::ProntoIntervento;
        }
        match open_case(
            w.txn(),
            principal,
            &owner,
            &p.input,
            now,
            super::CASE_OPERATION,
        )
        .await
        {
            Ok(id) => {
                if let Some((on, outcome)) = closure {
                    close_imported(w.txn(), principal, now, &id, on, outcome).await?;
                }
                report.valid += 1
            }
            Err(ApiError::Validation { field, message }) => {
                let column = column_of(&header, &field);
                report.rejected.push(Rejection::new(
                    p.row,
                    Some(column.clone()),
                    message.replace(&field, &column),
                ));
            }
            // `open_case` validates before it writes; anything else ends the whole import.
            Err(other) => return Err(other),
        }
    }
    finish(state, w, &mut report, opts, reads).await?;
    Ok(report)
}
