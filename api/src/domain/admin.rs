//! The platform admin's work: agencies, projects, networks, protocols, collaborations. None of it
//! is case data: these changes write no access-log entry.

use std::collections::BTreeSet;

use async_graphql::InputObject;
use chrono::NaiveDate;
use raccordo_entities::{
    agency, collaboration, network, network_member, project, project_ente, protocol,
    protocol_signatory,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use raccordo_policies::AgencyEdit;

use super::{enums::AgencyKind, new_id, Change};
use crate::{
    access::RequestContext,
    error::{ApiError, ApiResult},
    state::AppState,
    validate,
};

/// An agency's registry entry: a new agency's, or the whole entry that `updateAgency` writes.
#[derive(InputObject)]
pub struct AgencyInput {
    /// The agency's name.
    pub name: String,
    /// What kind of agency it is.
    pub kind: AgencyKind,
    /// Province sigla.
    pub province: Option<String>,
    /// City of the public office.
    pub city: Option<String>,
    /// Public contact.
    pub public_contact: Option<String>,
    /// Public website.
    pub website: Option<String>,
    /// Contact for referrals (partners only).
    pub referral_contact: Option<String>,
    /// WGS84 latitude of the public office (with `longitude`; for enti and CAV, whose premises
    /// include protected shelters, their comune's, never an address).
    pub latitude: Option<f64>,
    /// WGS84 longitude of the public office (with `latitude`).
    pub longitude: Option<f64>,
}

/// The office location of `input`: both coordinates or neither, within Italy.
fn office_location(input: &AgencyInput) -> ApiResult<(Option<f64>, Option<f64>)> {
    match (input.latitude, input.longitude) {
        (None, None) => Ok((None, None)),
        (Some(lat), Some(lon)) => {
            // Italy's bounding box: a swapped or mistyped coordinate lands outside it.
            if !(35.0..=48.0).contains(&lat) {
                return Err(ApiError::validation(
                    "input.latitude",
                    format!("{lat} is not a latitude in Italy (35 to 48)"),
                ));
            }
            if !(6.0..=19.0).contains(&lon) {
                return Err(ApiError::validation(
                    "input.longitude",
                    format!("{lon} is not a longitude in Italy (6 to 19)"),
                ));
            }
            Ok((Some(lat), Some(lon)))
        }
        (Some(_), None) => Err(ApiError::validation(
            "input.longitude",
            "give the longitude with the latitude",
        )),
        (None, Some(_)) => Err(ApiError::validation(
            "input.latitude",
            "give the latitude with the longitude",
        )),
    }
}

/// `FORBIDDEN` unless the request's principal is the platform admin.
fn require_admin(state: &AppState, request: &RequestContext) -> ApiResult<()> {
    let principal = request.require()?;
    if state.policy.may_administer(&principal.viewer()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the hub's platform admin can change the network's registry".into(),
        ))
    }
}

/// Every id in `ids` must be a known agency; `field` names the input.
async fn require_agencies<C: ConnectionTrait>(
    db: &C,
    field: &str,
    ids: &[String],
) -> ApiResult<()> {
    let unique: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let found = agency::Entity::find()
        .filter(agency::Column::Id.is_in(unique.iter().copied()))
        .count(db)
        .await?;
    if found as usize != unique.len() {
        return Err(ApiError::validation(
            field,
            "names an agency the hub does not know",
        ));
    }
    Ok(())
}

/// The ids once each, in order.
fn dedup(ids: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    set.into_iter().collect()
}

/// Registers an agency (`createAgency`).
pub async fn create_agency(
    state: &AppState,
    request: &RequestContext,
    input: &AgencyInput,
) -> ApiResult<agency::Model> {
    require_admin(state, request)?;
    let now = request.now;
    let (latitude, longitude) = office_location(input)?;
    let row = agency::ActiveModel {
        id: Set(new_id()),
        name: Set(validate::required("input.name", &input.name)?),
        kind: Set(raccordo_policies::AgencyKind::from(input.kind)
            .as_str()
            .to_string()),
        province: Set(input
            .province
            .as_deref()
            .map(|p| validate::province("input.province", p))
            .transpose()?),
        city: Set(validate::opt_text("input.city", &input.city)?),
        public_contact: Set(validate::opt_text(
            "input.publicContact",
            &input.public_contact,
        )?),
        website: Set(validate::opt_text("input.website", &input.website)?),
        referral_contact: Set(validate::opt_text(
            "input.referralContact",
            &input.referral_contact,
        )?),
        notes: Set(None),
        latitude: Set(latitude),
        longitude: Set(longitude),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let change = Change::begin(state, request).await?;
    let model = agency::Entity::insert(row)
        .exec_with_returning(change.db())
        .await?;
    change.commit().await?;
    Ok(model)
}

/// Rewrites agency `id`'s registry entry with `input` (`updateAgency`). The platform admin may
/// change all of it; the agency's own coordinators (`[roles] describe`) its public fields only, so
/// for them `kind` must stay as it is and `referralContact` be left out or unchanged (it is kept).
/// Agencies are public: an unknown id is `NOT_FOUND`, another agency's entry `FORBIDDEN`.
pub async fn update_agency(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    input: &AgencyInput,
) -> ApiResult<agency::Model> {
    let principal = request.require()?;
    let change = Change::begin(state, request).await?;
    let Some(row) = agency::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
    else {
        return Err(ApiError::NotFound("agency"));
    };
    let its_own = principal.agency_id() == Some(id);
    let edit = state.policy.agency_edit(&principal.viewer(), its_own);
    let kind = raccordo_policies::AgencyKind::from(input.kind).as_str();
    let referral_contact = validate::opt_text("input.referralContact", &input.referral_contact)?;
    let referral_contact = match edit {
        AgencyEdit::Nothing => {
            return Err(ApiError::Forbidden(
                "only the hub's platform admin, or the agency's own coordinators for its public fields, can change an agency's entry".into(),
            ))
        }
        AgencyEdit::PublicFields => {
            if kind != row.kind {
                return Err(ApiError::ForbiddenField {
                    field: "input.kind".into(),
                    message: "only the hub's platform admin can change an agency's kind".into(),
                });
            }
            if referral_contact.is_some() && referral_contact != row.referral_contact {
                return Err(ApiError::ForbiddenField {
                    field: "input.referralContact".into(),
                    message: "only the hub's platform admin can change an agency's referral contact; leave it out".into(),
                });
            }
            row.referral_contact.clone()
        }
        AgencyEdit::Everything => referral_contact,
    };
    let (latitude, longitude) = office_location(input)?;
    let mut active: agency::ActiveModel = row.into();
    active.name = Set(validate::required("input.name", &input.name)?);
    active.kind = Set(kind.to_string());
    active.province = Set(input
        .province
        .as_deref()
        .map(|p| validate::province("input.province", p))
        .transpose()?);
    active.city = Set(validate::opt_text("input.city", &input.city)?);
    active.public_contact = Set(validate::opt_text(
        "input.publicContact",
        &input.public_contact,
    )?);
    active.website = Set(validate::opt_text("input.website", &input.website)?);
    active.referral_contact = Set(referral_contact);
    active.latitude = Set(latitude);
    active.longitude = Set(longitude);
    active.updated_at = Set(request.now);
    let model = agency::Entity::update(active).exec(change.db()).await?;
    change.commit().await?;
    Ok(model)
}

/// A new project.
pub struct NewProject<'a> {
    /// Its name.
    pub name: &'a str,
    /// The coordinating agency.
    pub coordinator: &'a str,
    /// The enti working in it.
    pub enti: &'a [String],
    /// When it starts.
    pub starts_on: Option<NaiveDate>,
    /// When it ends.
    pub ends_on: Option<NaiveDate>,
}

/// Registers a project with its coordinator and enti (`createProject`).
pub async fn create_project(
    state: &AppState,
    request: &RequestContext,
    input: NewProject<'_>,
) -> ApiResult<project::Model> {
    require_admin(state, request)?;
    if let (Some(s), Some(e)) = (input.starts_on, input.ends_on) {
        validate::not_before("endsOn", e, s, "startsOn")?;
    }
    let change = Change::begin(state, request).await?;
    let coordinator = input.coordinator.to_string();
    require_agencies(
        change.db(),
        "coordinator",
        std::slice::from_ref(&coordinator),
    )
    .await?;
    require_agencies(change.db(), "enti", input.enti).await?;
    let now = change.now;
    let id = new_id();
    let model = project::Entity::insert(project::ActiveModel {
        id: Set(id.clone()),
        name: Set(validate::required("name", input.name)?),
        coordinator_id: Set(coordinator),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    let links: Vec<project_ente::ActiveModel> = dedup(input.enti)
        .into_iter()
        .map(|a| project_ente::ActiveModel {
            project_id: Set(id.clone()),
            agency_id: Set(a),
        })
        .collect();
    if !links.is_empty() {
        project_ente::Entity::insert_many(links)
            .exec_without_returning(change.db())
            .await?;
    }
    change.commit().await?;
    Ok(model)
}

/// A new territorial network.
pub struct NewNetwork<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its province.
    pub province: Option<&'a str>,
    /// The leading agency.
    pub lead: Option<&'a str>,
    /// The member agencies.
    pub members: &'a [String],
    /// How many municipalities it covers.
    pub municipalities: Option<i32>,
}

/// Registers a territorial network (`createNetwork`).
pub async fn create_network(
    state: &AppState,
    request: &RequestContext,
    input: NewNetwork<'_>,
) -> ApiResult<network::Model> {
    require_admin(state, request)?;
    let change = Change::begin(state, request).await?;
    let lead = input.lead.map(str::to_string);
    if let Some(l) = &lead {
        require_agencies(change.db(), "lead", std::slice::from_ref(l)).await?;
    }
    require_agencies(change.db(), "members", input.members).await?;
    let now = change.now;
    let id = new_id();
    let model = network::Entity::insert(network::ActiveModel {
        id: Set(id.clone()),
        name: Set(validate::required("name", input.name)?),
        province: Set(input
            .province
            .map(|p| validate::province("province", p))
            .transpose()?),
        lead_id: Set(lead),
        municipalities: Set(input
            .municipalities
            .map(|m| validate::count("municipalities", m))
            .transpose()?),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    let links: Vec<network_member::ActiveModel> = dedup(input.members)
        .into_iter()
        .map(|a| network_member::ActiveModel {
            network_id: Set(id.clone()),
            agency_id: Set(a),
        })
        .collect();
    if !links.is_empty() {
        network_member::Entity::insert_many(links)
            .exec_without_returning(change.db())
            .await?;
    }
    change.commit().await?;
    Ok(model)
}

/// Registers a signed protocol and its signatories (`createProtocol`).
pub async fn create_protocol(
    state: &AppState,
    request: &RequestContext,
    title: &str,
    signed_on: Option<NaiveDate>,
    signatories: &[String],
    policy_version: &Option<String>,
) -> ApiResult<protocol::Model> {
    require_admin(state, request)?;
    if let Some(d) = signed_on {
        validate::not_future("signedOn", d, request.today())?;
    }
    let change = Change::begin(state, request).await?;
    require_agencies(change.db(), "signatories", signatories).await?;
    let now = change.now;
    let id = new_id();
    let model = protocol::Entity::insert(protocol::ActiveModel {
        id: Set(id.clone()),
        title: Set(validate::required("title", title)?),
        signed_on: Set(signed_on),
        policy_version: Set(validate::opt_text("policyVersion", policy_version)?),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    let links: Vec<protocol_signatory::ActiveModel> = dedup(signatories)
        .into_iter()
        .map(|a| protocol_signatory::ActiveModel {
            protocol_id: Set(id.clone()),
            agency_id: Set(a),
        })
        .collect();
    if !links.is_empty() {
        protocol_signatory::Entity::insert_many(links)
            .exec_without_returning(change.db())
            .await?;
    }
    change.commit().await?;
    Ok(model)
}

/// Records a collaboration of `kind` between two agencies (`createCollaboration`).
pub async fn create_collaboration(
    state: &AppState,
    request: &RequestContext,
    from: &str,
    to: &str,
    kind: &str,
    since: Option<NaiveDate>,
) -> ApiResult<collaboration::Model> {
    require_admin(state, request)?;
    if from == to {
        return Err(ApiError::validation(
            "to",
            "an agency cannot collaborate with itself",
        ));
    }
    let change = Change::begin(state, request).await?;
    let (from, to) = (from.to_string(), to.to_string());
    require_agencies(change.db(), "from", std::slice::from_ref(&from)).await?;
    require_agencies(change.db(), "to", std::slice::from_ref(&to)).await?;
    let now = change.now;
    let model = collaboration::Entity::insert(collaboration::ActiveModel {
        id: Set(new_id()),
        kind: Set(validate::required("kind", kind)?),
        from_id: Set(from),
        to_id: Set(to),
        since: Set(since),
        weight: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    change.commit().await?;
    Ok(model)
}
