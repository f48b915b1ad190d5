//! Importing referrals (richieste di valutazione) sent by the importing agency: each row is sent
//! as `createReferral` would send it, `RECEIVED` by the target ente. A referral is the same one
//! when the sender, its `subjectRef` and the day it was received are the same; importing it again
//! changes nothing.

use std::collections::{BTreeMap, HashMap};

use async_graphql::ID;
use chrono::{DateTime, NaiveDate, Utc};
use csv::StringRecord;
use raccordo_entities::{agency, project, referral};
use raccordo_policies::AgencyKind;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    cases::CHUNK,
    columns::{Cells, Header, REFERRAL_COLUMNS},
    finish,
    report::{Rejection, Report},
    resolve, source, values, Options, ReferenceList,
};
use crate::{
    access::Principal,
    domain::{
        enums::{Gender, ReferralOutcome, ReferralStatus},
        referrals::{open_referral, ReferralInput},
        scalars::Date,
    },
    error::{ApiError, ApiResult},
    state::AppState,
    validate,
};

/// A row that parsed.
struct Parsed {
    row: usize,
    target: String,
    received_on: NaiveDate,
    subject_ref: String,
    province: Option<String>,
    gender: Option<Gender>,
    nationality: Option<String>,
    project: Option<String>,
}

fn fail(problems: &mut Vec<Rejection>, header: &Header, row: usize, name: &str, reason: String) {
    problems.push(Rejection::new(row, Some(header.label(name)), reason));
}

fn parse_row(header: &Header, row: usize, record: &StringRecord) -> Result<Parsed, Vec<Rejection>> {
    let mut c = Cells::new(header, record, row);
    let target = c.required("target", |v| Ok(v.to_string()));
    let received_on = c.required("receivedOn", values::date);
    let subject_ref = c.required("subjectRef", |v| Ok(v.to_string()));
    let province = c.parse("province", |v| {
        validate::province("", v).map_err(|e| e.to_string())
    });
    let gender = c.parse("subjectGender", values::label::<Gender>);
    let nationality = c.parse("subjectNationality", values::nationality);
    let project = c.text("projectId");
    if let Some(
        ReferralStatus::Scheduled
        | ReferralStatus::InProgress
        | ReferralStatus::Concluded
        | ReferralStatus::Unreachable
        | ReferralStatus::Withdrawn,
    ) = c.parse("status", values::label::<ReferralStatus>)
    {
        c.fail(
            "status",
            "an import sends referrals as RECEIVED only: the target ente moves them on in the hub",
        );
    }
    if c.parse("outcome", values::label::<ReferralOutcome>)
        .is_some()
    {
        c.fail(
            "outcome",
            "an imported referral has no outcome yet: the target ente records it in the hub",
        );
    }
    match (target, subject_ref, received_on) {
        (Some(target), Some(subject_ref), Some(received_on)) if c.problems.is_empty() => {
            Ok(Parsed {
                row,
                target,
                received_on,
                subject_ref,
                province,
                gender,
                nationality,
                project,
            })
        }
        _ => Err(c.problems),
    }
}

/// Imports the referrals of a CSV file, sent by `principal`'s agency.
pub async fn import_referrals(
    state: &AppState,
    principal: &Principal,
    bytes: &[u8],
    now: DateTime<Utc>,
    opts: &Options,
) -> ApiResult<Report> {
    let requester = principal
        .agency_id()
        .ok_or_else(|| ApiError::Forbidden("only a partner agency sends referrals".into()))?
        .to_string();
    if !state.policy.may_create_referral(&principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role send referrals".into(),
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
    let header = match Header::resolve(REFERRAL_COLUMNS, &table.header) {
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
    // The same (subjectRef, receivedOn, target) twice in the file: none of them is sent.
    let key = |p: &Parsed| {
        (
            p.subject_ref.clone(),
            p.received_on,
            values::fold(&p.target),
        )
    };
    let mut rows_of: BTreeMap<(String, NaiveDate, String), Vec<usize>> = BTreeMap::new();
    for p in &parsed {
        rows_of.entry(key(p)).or_default().push(p.row);
    }
    parsed.retain(|p| {
        let Some(rows) = rows_of
            .get(&key(p))
            .filter(|r| r.len() > 1)
        else {
            return true;
        };
        report.rejected.push(Rejection::new(
            p.row,
            Some(header.label("subjectRef")),
            format!(
                "the same subjectRef, receivedOn and target are on rows {}: a referral is sent once",
                rows.iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        false
    });

    let w = state.write().await?;
    let agencies = agency::Entity::find().all(w.txn()).await?;
    let targets: ReferenceList = agencies
        .iter()
        .filter(|a| {
            !a.disabled
                && a.kind
                    .parse::<AgencyKind>()
                    .is_ok_and(|k| state.policy.may_receive_referral(k))
        })
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let province_of: HashMap<&str, Option<String>> = agencies
        .iter()
        .map(|a| (a.id.as_str(), a.province.clone()))
        .collect();
    let projects: ReferenceList = project::Entity::find()
        .all(w.txn())
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let refs: Vec<String> = parsed.iter().map(|p| p.subject_ref.clone()).collect();
    // ACCESS.md §6: requester, subject reference, day and target name one referral.
    let mut stored: HashMap<(String, NaiveDate, String), referral::Model> = HashMap::new();
    for chunk in refs.chunks(CHUNK) {
        for r in referral::Entity::find()
            .filter(referral::Column::RequestedById.eq(requester.as_str()))
            .filter(referral::Column::SubjectRef.is_in(chunk.to_vec()))
            .all(w.txn())
            .await?
        {
            if let Some(s) = r.subject_ref.clone() {
                stored.insert((s, r.received_on, r.target_id.clone()), r);
            }
        }
    }
    for p in parsed {
        let target = resolve(&targets, "anti-trafficking ente", &p.target);
        let project = p
            .project
            .as_deref()
            .map(|v| resolve(&projects, "project", v));
        let (target, project) = match (target, project.transpose()) {
            (Ok(t), Ok(pr)) => (t, pr),
            (t, pr) => {
                if let Err(e) = t {
                    fail(&mut report.rejected, &header, p.row, "target", e);
                }
                if let Err(e) = pr {
                    fail(&mut report.rejected, &header, p.row, "projectId", e);
                }
                continue;
            }
        };
        if let Some(existing) = stored.get(&(p.subject_ref.clone(), p.received_on, target.clone()))
        {
            let province = p
                .province
                .clone()
                .or_else(|| province_of.get(target.as_str()).cloned().flatten());
            let mut differ = Vec::new();
            let checks = [
                (
                    "province",
                    header.has("province") && province != existing.province,
                ),
                (
                    "subjectGender",
                    header.has("subjectGender")
                        && p.gender.map(|g| g.as_str().to_string()) != existing.subject_gender,
                ),
                (
                    "subjectNationality",
                    header.has("subjectNationality")
                        && p.nationality != existing.subject_nationality,
                ),
                (
                    "projectId",
                    header.has("projectId") && project != existing.project_id,
                ),
            ];
            for (name, differs) in checks {
                if differs {
                    differ.push(header.label(name));
                }
            }
            if differ.is_empty() {
                report.unchanged += 1;
            } else {
                report.rejected.push(Rejection::new(
                    p.row,
                    differ.first().cloned(),
                    format!(
                        "your agency already sent this ente a referral with this subjectRef on this day and its values differ in: {}; an import never changes an existing referral in this version",
                        differ.join(", ")
                    ),
                ));
            }
            continue;
        }
        let input = ReferralInput {
            target: ID(target),
            received_on: Date(p.received_on),
            project_id: project.map(ID),
            province: p.province,
            subject_ref: Some(p.subject_ref),
            subject_gender: p.gender,
            subject_nationality: p.nationality,
        };
        match open_referral(
            w.txn(),
            &state.policy,
            principal,
            &requester,
            &input,
            now,
            super::REFERRAL_OPERATION,
        )
        .await
        {
            Ok((_, true)) => report.valid += 1,
            // The same referral twice in one import (the target named by id and by name).
            Ok((_, false)) => report.unchanged += 1,
            Err(ApiError::Validation { field, message }) => {
                let name = field.strip_prefix("input.").unwrap_or(&field);
                let column = header.label(name);
                report.rejected.push(Rejection::new(
                    p.row,
                    Some(column.clone()),
                    message.replace(&field, &column),
                ));
            }
            Err(other) => return Err(other),
        }
    }
    finish(state, w, &mut report, opts, Vec::new()).await?;
    Ok(report)
}
