//! Shelter places, vacancies and emergency placement requests (issue 18, ACCESS.md §8).
//!
//! The service layer: plain inputs, a [`PlacesCtx`] (connection or transaction, policy,
//! principal, clock), domain errors ([`ApiError`]). Every decision is the policy's
//! (`raccordo_policies::places`); this module gathers the facts it needs and writes.
//!
//! - Occupancy is counted from the open cases placed in a shelter (the person and the minors
//!   with them), never typed in.
//! - An offer holds its places in `shelter_places.on_offer` through a conditional `UPDATE` that
//!   only succeeds while the vacancy is still there: of concurrent offers for the last places,
//!   exactly one wins and the others are `CONFLICT`, on SQLite and PostgreSQL alike.
//! - Accepting is a conditional `UPDATE` of the request from `OPEN`: a second acceptance, or an
//!   offer on a request no longer open, is `CONFLICT`.
//! - Nothing here ever returns a shelter to anyone but its owner: offers carry the ente and its
//!   contact, and vacancy cells only counts, and only over at least `min_shelters` shelters.

mod sql;

pub mod changes;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use raccordo_entities::{
    agency, placement_event, placement_offer, placement_request, shelter, shelter_places,
};
use raccordo_policies::{
    places::{
        self, NeedSpec, PlaceGroup, PlaceSpec, PlacesPolicy, RequestFacts, RequestSight,
        ShelterKind, Urgency,
    },
    ClassSet, Policy, RelationshipSet,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr};

use crate::{
    access::Principal,
    domain::{log_change, new_id, LogEntry},
    error::{ApiError, ApiResult},
    validate,
};

/// Request statuses.
pub const OPEN: &str = "OPEN";
/// An offer was accepted; its places stay held until the ente records the placement.
pub const ACCEPTED: &str = "ACCEPTED";
/// The person arrived; the ente placed the case in its shelter.
pub const PLACED: &str = "PLACED";
/// The requester took the request back.
pub const WITHDRAWN: &str = "WITHDRAWN";
/// Offer statuses (besides `ACCEPTED`, `WITHDRAWN`, `PLACED`).
pub const OFFERED: &str = "OFFERED";
/// Another offer was accepted, or the request withdrawn.
pub const DECLINED: &str = "DECLINED";

/// What every service call needs.
pub struct PlacesCtx<'a, C: ConnectionTrait> {
    /// The connection, or the mutation's transaction.
    pub db: &'a C,
    /// The request's policy.
    pub policy: &'a Policy,
    /// Who asks.
    pub principal: &'a Principal,
    /// The request's clock.
    pub now: DateTime<Utc>,
}

impl<C: ConnectionTrait> PlacesCtx<'_, C> {
    fn rules(&self) -> &PlacesPolicy {
        self.policy.places()
    }
    fn agency(&self) -> ApiResult<&str> {
        self.principal
            .agency_id()
            .ok_or_else(|| ApiError::Forbidden("only a partner agency's users can do this".into()))
    }
    async fn log(&self, operation: &str, detail: String) -> ApiResult<()> {
        log_change(
            self.db,
            self.principal,
            LogEntry {
                case_id: None,
                operation,
                rels: RelationshipSet::empty(),
                classes: ClassSet::empty(),
                detail: Some(detail),
            },
        )
        .await
    }
    async fn event(
        &self,
        request_id: &str,
        offer_id: Option<&str>,
        by_viewer: bool,
        event: &str,
    ) -> ApiResult<()> {
        placement_event::Entity::insert(placement_event::ActiveModel {
            id: Set(new_id()),
            request_id: Set(request_id.to_string()),
            offer_id: Set(offer_id.map(str::to_string)),
            at: Set(self.now),
            agency_id: Set(by_viewer
                .then(|| self.principal.agency_id().map(str::to_string))
                .flatten()),
            user_id: Set(by_viewer.then(|| self.principal.user_id.clone())),
            event: Set(event.to_string()),
        })
        .exec_without_returning(self.db)
        .await?;
        Ok(())
    }
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> ApiResult<T> {
    text.parse()
        .map_err(|_| ApiError::Internal(format!("stored {what} {text:?} is unknown").into()))
}

// ------------------------------------------------------------------------------------------------
// Places
// ------------------------------------------------------------------------------------------------

/// One shelter of the viewer's own agency, with its places as the owner sees them.
#[derive(Debug, Clone)]
pub struct OwnShelter {
    /// The shelter itself: the owner reads it whole.
    pub shelter: shelter::Model,
    /// `None` until the owner records the shelter's places.
    pub places: Option<shelter_places::Model>,
    /// People in the open cases placed here.
    pub occupancy: i64,
}

impl OwnShelter {
    /// Vacancies now (0 when the places are not recorded).
    pub fn vacancies(&self) -> i64 {
        self.places.as_ref().map_or(0, |p| {
            places::vacancies(
                i64::from(p.capacity),
                self.occupancy,
                i64::from(p.unavailable),
                i64::from(p.on_offer),
            )
        })
    }

    fn spec(&self) -> Option<PlaceSpec<'_>> {
        let p = self.places.as_ref()?;
        Some(PlaceSpec {
            province: self.shelter.province.as_deref(),
            kind: p.kind.parse().ok()?,
            takes: p.takes.parse().ok()?,
            vacancies: self.vacancies(),
        })
    }
}

/// The input of `setShelterPlaces`.
#[derive(Debug, Clone)]
pub struct PlacesInput {
    /// The kind of reception it offers.
    pub kind: ShelterKind,
    /// Who it takes.
    pub takes: PlaceGroup,
    /// Its places in all.
    pub capacity: i32,
    /// Places out of use for now.
    pub unavailable: i32,
    /// Why they are out of use (required when there are any).
    pub unavailable_reason: Option<String>,
}

/// People in the open cases placed in each of `shelters` (absent: nobody).
pub async fn occupancy<C: ConnectionTrait>(
    db: &C,
    shelters: &[String],
) -> ApiResult<HashMap<String, i64>> {
    sql::occupancy(db, shelters).await
}

/// The shelters of `agency`, with their places and occupancy, by name.
pub async fn shelters_of<C: ConnectionTrait>(db: &C, agency: &str) -> ApiResult<Vec<OwnShelter>> {
    let shelters = shelter::Entity::find()
        .filter(shelter::Column::OwnerId.eq(agency))
        .order_by_asc(shelter::Column::Name)
        .order_by_asc(shelter::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<String> = shelters.iter().map(|s| s.id.clone()).collect();
    let mut rows: HashMap<String, shelter_places::Model> = shelter_places::Entity::find()
        .filter(shelter_places::Column::ShelterId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.shelter_id.clone(), p))
        .collect();
    let occupancy = sql::occupancy(db, &ids).await?;
    Ok(shelters
        .into_iter()
        .map(|s| OwnShelter {
            places: rows.remove(&s.id),
            occupancy: occupancy.get(&s.id).copied().unwrap_or(0),
            shelter: s,
        })
        .collect())
}

/// The viewer's own shelters with their places (`[places] offerers`, acting roles).
pub async fn own_shelters<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
) -> ApiResult<Vec<OwnShelter>> {
    if !ctx.rules().may_manage_places(&ctx.principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role manage shelter places".into(),
        ));
    }
    shelters_of(ctx.db, ctx.agency()?).await
}

/// Records or changes a shelter's places (its owner only). `version`, when given, must be the
/// places' current version.
pub async fn set_places<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    shelter_id: &str,
    input: &PlacesInput,
    version: Option<i32>,
) -> ApiResult<OwnShelter> {
    if !ctx.rules().may_manage_places(&ctx.principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role manage shelter places".into(),
        ));
    }
    let agency = ctx.agency()?;
    let Some(current) = shelters_of(ctx.db, agency)
        .await?
        .into_iter()
        .find(|s| s.shelter.id == shelter_id)
    else {
        return Err(ApiError::NotFound("shelter"));
    };
    let reason = validate::opt_text("input.unavailableReason", &input.unavailable_reason)?
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if input.unavailable > 0 && reason.is_none() {
        return Err(ApiError::validation(
            "input.unavailableReason",
            "say why the places are unavailable",
        ));
    }
    let on_offer = current.places.as_ref().map_or(0, |p| p.on_offer);
    places::check_places(
        i64::from(input.capacity),
        i64::from(input.unavailable),
        current.occupancy,
        i64::from(on_offer),
    )
    .map_err(|r| ApiError::validation(format!("input.{}", r.field), r.message))?;
    let current_version = current.places.as_ref().map_or(0, |p| p.version);
    if let Some(v) = version {
        if v != current_version {
            return Err(ApiError::ConflictAt {
                field: "version".into(),
                message: format!(
                    "the shelter's places were changed by someone else (current version {current_version}); reload them and try again"
                ),
                current_version,
            });
        }
    }
    let reason_for_row = if input.unavailable > 0 { reason } else { None };
    if current.places.is_none() {
        let inserted = shelter_places::Entity::insert(shelter_places::ActiveModel {
            shelter_id: Set(shelter_id.to_string()),
            kind: Set(input.kind.as_str().to_string()),
            takes: Set(input.takes.as_str().to_string()),
            capacity: Set(input.capacity),
            unavailable: Set(input.unavailable),
            unavailable_reason: Set(reason_for_row),
            on_offer: Set(0),
            version: Set(1),
            updated_at: Set(ctx.now),
        })
        .exec_without_returning(ctx.db)
        .await;
        if let Err(e) = inserted {
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::ConflictAt {
                    field: "shelterId".into(),
                    message: "the shelter's places were recorded by someone else just now; reload them and try again".into(),
                    current_version: 1,
                },
                _ => e.into(),
            });
        }
    } else {
        let changed = sql::update_places(
            ctx.db,
            shelter_id,
            input,
            reason_for_row,
            current_version,
            ctx.now,
        )
        .await?;
        if !changed {
            return Err(ApiError::ConflictAt {
                field: "input.capacity".into(),
                message: "the shelter's places changed while you were saving (an offer or a placement); reload them and try again".into(),
                current_version,
            });
        }
    }
    ctx.log(
        "setShelterPlaces",
        format!(
            "shelter {shelter_id}: capacity {}, unavailable {}",
            input.capacity, input.unavailable
        ),
    )
    .await?;
    shelters_of(ctx.db, agency)
        .await?
        .into_iter()
        .find(|s| s.shelter.id == shelter_id)
        .ok_or(ApiError::NotFound("shelter"))
}

/// One cell of the vacancy table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacancyCell {
    /// Province category (a listed sigla or `OTHER`).
    pub province: String,
    /// The kind of shelter.
    pub kind: ShelterKind,
    /// Who the shelters take.
    pub takes: PlaceGroup,
    /// `None`: suppressed (fewer than `min_shelters` shelters behind the cell).
    pub count: Option<u64>,
}

/// Vacancies per province × kind × who it takes, for the kinds and roles the policy names.
/// Every cell of every category is returned (the filters only pick cells, they never change
/// one), so which cells appear, and what any combination of aliased or batched calls returns,
/// says nothing beyond the published counts.
pub async fn vacancy_cells<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: Option<&Principal>,
    province: Option<&str>,
    kind: Option<ShelterKind>,
    takes: Option<PlaceGroup>,
) -> ApiResult<Vec<VacancyCell>> {
    let viewer = principal.map(Principal::viewer);
    if principal.is_none() {
        return Err(ApiError::Unauthenticated(
            "this needs a partner's token".into(),
        ));
    }
    if !policy.places().may_read_vacancies(viewer.as_ref()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role read vacancies".into(),
        ));
    }
    let spec = policy.release_spec();
    let province = province
        .map(|p| validate::province("province", p))
        .transpose()?;
    let mut provinces: Vec<String> = spec.provinces.clone();
    provinces.push(raccordo_policies::release::OTHER.to_string());
    if let Some(p) = &province {
        let category = spec.province_category(p).to_string();
        provinces.retain(|x| *x == category);
    }
    // (province category, kind, takes) -> (shelters, vacancies)
    let mut sums: BTreeMap<(String, ShelterKind, PlaceGroup), (u64, i64)> = BTreeMap::new();
    let rows = sql::all_places(db).await?;
    for row in rows {
        let (Ok(k), Ok(t)) = (
            row.kind.parse::<ShelterKind>(),
            row.takes.parse::<PlaceGroup>(),
        ) else {
            continue;
        };
        let category = match row.province.as_deref() {
            Some(p) => spec.province_category(p).to_string(),
            None => raccordo_policies::release::OTHER.to_string(),
        };
        let v = places::vacancies(row.capacity, row.occupancy, row.unavailable, row.on_offer);
        let e = sums.entry((category, k, t)).or_insert((0, 0));
        e.0 += 1;
        e.1 += v;
    }
    let mut cells = Vec::new();
    for p in &provinces {
        for k in ShelterKind::ALL {
            if kind.is_some_and(|x| x != k) {
                continue;
            }
            for t in PlaceGroup::ALL {
                if takes.is_some_and(|x| x != t) {
                    continue;
                }
                let (n, v) = sums.get(&(p.clone(), k, t)).copied().unwrap_or((0, 0));
                cells.push(VacancyCell {
                    province: p.clone(),
                    kind: k,
                    takes: t,
                    count: policy.places().vacancy_cell(n, v),
                });
            }
        }
    }
    Ok(cells)
}

// ------------------------------------------------------------------------------------------------
// Placement requests
// ------------------------------------------------------------------------------------------------

/// The input of `requestPlacement`.
#[derive(Debug, Clone)]
pub struct RequestInput {
    /// How many people need a place.
    pub people: i32,
    /// How many of them are minors.
    pub minors: i32,
    /// Who they are (women, men, trans people, mothers with children).
    pub takes: PlaceGroup,
    /// The kind of reception needed, if one.
    pub kind: Option<ShelterKind>,
    /// How soon.
    pub urgency: Urgency,
    /// Where (sigla).
    pub province: String,
    /// How the ente that takes it reaches the requester (an office, never a person's data).
    pub contact: String,
}

/// A request as one viewer sees it.
#[derive(Debug, Clone)]
pub struct RequestView {
    /// The request, as stored.
    pub request: placement_request::Model,
    /// Why the viewer may see it.
    pub sight: RequestSight,
    /// The offers the viewer may see: all for the requester, its own for an ente, none else.
    pub offers: Vec<placement_offer::Model>,
    /// Whether it got no offer within its urgency's window.
    pub overdue: bool,
    /// The steps taken, for the requester.
    pub steps: Vec<placement_event::Model>,
}

impl RequestView {
    /// The accepted offer, if the viewer sees it.
    pub fn accepted(&self) -> Option<&placement_offer::Model> {
        let id = self.request.accepted_offer_id.as_deref()?;
        self.offers.iter().find(|o| o.id == id)
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailbox {
    /// The viewer's agency's own requests.
    Sent,
    /// Open requests one of the viewer's shelters could take, and those it offered on.
    Inbox,
    /// Open requests without an offer past their window: the viewer's own, and for the
    /// watchers (the Numero Verde) everyone's.
    Overdue,
}

/// Validates and records a request.
pub async fn request_placement<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    input: &RequestInput,
) -> ApiResult<placement_request::Model> {
    if !ctx.rules().may_request(&ctx.principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role ask for places".into(),
        ));
    }
    let agency = ctx.agency()?.to_string();
    if input.people < 1 {
        return Err(ApiError::validation(
            "input.people",
            format!("ask for at least one place, not {}", input.people),
        ));
    }
    if input.people > 50 {
        return Err(ApiError::validation(
            "input.people",
            "more than 50 places is not one placement: split the request",
        ));
    }
    if input.minors < 0 || input.minors > input.people {
        return Err(ApiError::validation(
            "input.minors",
            format!("minors must be from 0 to the {} people", input.people),
        ));
    }
    match input.takes {
        PlaceGroup::MothersWithChildren if input.minors < 1 || input.minors >= input.people => {
            return Err(ApiError::validation(
                "input.minors",
                "a mother with children: at least one minor, and at least one adult",
            ))
        }
        PlaceGroup::Minors if input.minors != input.people => {
            return Err(ApiError::validation(
                "input.minors",
                "places for unaccompanied minors: every person is a minor",
            ))
        }
        _ => {}
    }
    let province = validate::province("input.province", &input.province)?;
    let contact = validate::required("input.contact", &input.contact)?;
    if contact.chars().count() > 200 {
        return Err(ApiError::validation(
            "input.contact",
            "a contact is an office phone or e-mail, at most 200 characters",
        ));
    }
    let id = new_id();
    let model = placement_request::Model {
        id: id.clone(),
        requester_id: agency,
        requested_by: ctx.principal.user_id.clone(),
        people: input.people,
        minors: input.minors,
        takes: input.takes.as_str().to_string(),
        kind: input.kind.map(|k| k.as_str().to_string()),
        urgency: input.urgency.as_str().to_string(),
        province,
        contact,
        status: OPEN.to_string(),
        accepted_offer_id: None,
        requested_at: ctx.now,
        closed_at: None,
        version: 1,
    };
    let active: placement_request::ActiveModel = model.clone().into();
    placement_request::Entity::insert(active)
        .exec_without_returning(ctx.db)
        .await?;
    ctx.event(&id, None, true, "REQUESTED").await?;
    ctx.log(
        "requestPlacement",
        format!(
            "placement request {id}: {} places, {}, {}",
            input.people, input.takes, input.urgency
        ),
    )
    .await?;
    Ok(model)
}

fn need(r: &placement_request::Model) -> Option<NeedSpec<'_>> {
    Some(NeedSpec {
        province: &r.province,
        kind: match &r.kind {
            Some(k) => Some(k.parse().ok()?),
            None => None,
        },
        takes: r.takes.parse().ok()?,
        people: i64::from(r.people),
    })
}

/// Sees requests for one viewer: loads its shelters once, then decides each request.
struct Seer<'c, 'a, C: ConnectionTrait> {
    ctx: &'c PlacesCtx<'a, C>,
    agency: Option<String>,
    shelters: Vec<OwnShelter>,
}

impl<'c, 'a, C: ConnectionTrait> Seer<'c, 'a, C> {
    async fn new(ctx: &'c PlacesCtx<'a, C>) -> ApiResult<Self> {
        let agency = ctx.principal.agency_id().map(str::to_string);
        let offers_places = ctx
            .principal
            .kind
            .is_some_and(|k| ctx.rules().offers_places(k));
        let shelters = match (&agency, offers_places) {
            (Some(a), true) => shelters_of(ctx.db, a).await?,
            _ => Vec::new(),
        };
        Ok(Seer {
            ctx,
            agency,
            shelters,
        })
    }

    fn matching(&self, r: &placement_request::Model) -> bool {
        let Some(need) = need(r) else { return false };
        self.shelters
            .iter()
            .filter_map(OwnShelter::spec)
            .any(|place| places::matches(place, need))
    }

    /// Decides the requests, dropping the hidden ones, and loads what each viewer may see.
    async fn views(&self, requests: Vec<placement_request::Model>) -> ApiResult<Vec<RequestView>> {
        let ids: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
        let all_offers = placement_offer::Entity::find()
            .filter(placement_offer::Column::RequestId.is_in(ids.clone()))
            .order_by_asc(placement_offer::Column::OfferedAt)
            .order_by_asc(placement_offer::Column::Id)
            .all(self.ctx.db)
            .await?;
        let mut by_request: HashMap<String, Vec<placement_offer::Model>> = HashMap::new();
        for o in all_offers {
            by_request.entry(o.request_id.clone()).or_default().push(o);
        }
        let viewer = self.ctx.principal.viewer();
        let mut out = Vec::new();
        let mut requester_ids = Vec::new();
        for r in requests {
            let offers = by_request.remove(&r.id).unwrap_or_default();
            let urgency: Urgency = parse("urgency", &r.urgency)?;
            let open = r.status == OPEN;
            let overdue = self.ctx.rules().overdue(
                urgency,
                (self.ctx.now - r.requested_at).num_seconds(),
                open,
                offers.len() as u64,
            );
            let mine =
                |o: &placement_offer::Model| Some(o.ente_id.as_str()) == self.agency.as_deref();
            let facts = RequestFacts {
                is_requester: Some(r.requester_id.as_str()) == self.agency.as_deref(),
                has_offer: offers.iter().any(mine),
                matching: open && self.matching(&r),
                open,
                overdue,
            };
            let sight = self.ctx.rules().request_sight(&viewer, facts);
            let offers: Vec<placement_offer::Model> = match sight {
                RequestSight::Hidden => continue,
                RequestSight::Requester => offers,
                RequestSight::Inbox => offers.into_iter().filter(|o| mine(o)).collect(),
                RequestSight::Watcher => Vec::new(),
            };
            if sight == RequestSight::Requester {
                requester_ids.push(r.id.clone());
            }
            out.push(RequestView {
                request: r,
                sight,
                offers,
                overdue,
                steps: Vec::new(),
            });
        }
        if !requester_ids.is_empty() {
            let steps = placement_event::Entity::find()
                .filter(placement_event::Column::RequestId.is_in(requester_ids))
                .order_by_asc(placement_event::Column::At)
                .order_by_asc(placement_event::Column::Id)
                .all(self.ctx.db)
                .await?;
            let mut by_request: HashMap<String, Vec<placement_event::Model>> = HashMap::new();
            for s in steps {
                by_request.entry(s.request_id.clone()).or_default().push(s);
            }
            for v in &mut out {
                if v.sight == RequestSight::Requester {
                    v.steps = by_request.remove(&v.request.id).unwrap_or_default();
                }
            }
        }
        Ok(out)
    }
}

/// One request as the viewer sees it; `None` when it does not exist for the viewer (exactly as
/// for an id never used).
pub async fn request_view<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    id: &str,
) -> ApiResult<Option<RequestView>> {
    let Some(row) = placement_request::Entity::find_by_id(id.to_string())
        .one(ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let seer = Seer::new(ctx).await?;
    Ok(seer.views(vec![row]).await?.pop())
}

/// The requests of one mailbox, newest first.
pub async fn mailbox<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    which: Mailbox,
) -> ApiResult<Vec<RequestView>> {
    let viewer = ctx.principal.viewer();
    let Some(agency) = ctx.principal.agency_id() else {
        return Ok(Vec::new());
    };
    let rules = ctx.rules();
    let order = |q: sea_orm::Select<placement_request::Entity>| {
        q.order_by_desc(placement_request::Column::RequestedAt)
            .order_by_asc(placement_request::Column::Id)
    };
    let seer = Seer::new(ctx).await?;
    let rows = match which {
        Mailbox::Sent => {
            order(placement_request::Entity::find())
                .filter(placement_request::Column::RequesterId.eq(agency))
                .all(ctx.db)
                .await?
        }
        Mailbox::Inbox => {
            if seer.shelters.is_empty() {
                return Ok(Vec::new());
            }
            let provinces: HashSet<String> = seer
                .shelters
                .iter()
                .filter_map(|s| s.shelter.province.clone())
                .collect();
            let offered: Vec<String> = placement_offer::Entity::find()
                .filter(placement_offer::Column::EnteId.eq(agency))
                .all(ctx.db)
                .await?
                .into_iter()
                .map(|o| o.request_id)
                .collect();
            order(placement_request::Entity::find())
                .filter(
                    sea_orm::Condition::any()
                        .add(
                            sea_orm::Condition::all()
                                .add(placement_request::Column::Status.eq(OPEN))
                                .add(placement_request::Column::Province.is_in(provinces))
                                .add(placement_request::Column::RequesterId.ne(agency)),
                        )
                        .add(placement_request::Column::Id.is_in(offered)),
                )
                .all(ctx.db)
                .await?
        }
        Mailbox::Overdue => {
            let mut q = order(placement_request::Entity::find())
                .filter(placement_request::Column::Status.eq(OPEN));
            if !rules.watches_overdue(&viewer) {
                q = q.filter(placement_request::Column::RequesterId.eq(agency));
            }
            q.all(ctx.db).await?
        }
    };
    let views = seer.views(rows).await?;
    Ok(views
        .into_iter()
        .filter(|v| match which {
            Mailbox::Sent => v.sight == RequestSight::Requester,
            Mailbox::Inbox => v.sight == RequestSight::Inbox,
            Mailbox::Overdue => v.overdue,
        })
        .collect())
}

fn gone(what: &'static str) -> ApiError {
    ApiError::NotFound(what)
}

/// An ente offers places on a request from one of its shelters. The offer holds the places; of
/// concurrent offers for the last places of a shelter, one wins and the others are `CONFLICT`.
pub async fn offer<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    request_id: &str,
    shelter_id: &str,
    contact: &str,
) -> ApiResult<placement_offer::Model> {
    let viewer = ctx.principal.viewer();
    let agency = ctx.agency()?.to_string();
    let Some(r) = placement_request::Entity::find_by_id(request_id.to_string())
        .one(ctx.db)
        .await?
    else {
        return Err(gone("placement request"));
    };
    let Some(need) = need(&r) else {
        return Err(ApiError::Internal(
            format!("request {request_id} is unreadable").into(),
        ));
    };
    let shelters = if ctx.rules().may_manage_places(&viewer) {
        shelters_of(ctx.db, &agency).await?
    } else {
        Vec::new()
    };
    // Whether a shelter could take the request, whatever its vacancies now: the hold below
    // decides on the vacancy, so that a race lost is CONFLICT, never NOT_FOUND.
    let fits = |s: &OwnShelter| {
        s.spec().is_some_and(|place| {
            places::matches(
                PlaceSpec {
                    vacancies: i64::MAX,
                    ..place
                },
                need,
            )
        })
    };
    let has_offer = placement_offer::Entity::find()
        .filter(placement_offer::Column::RequestId.eq(request_id))
        .filter(placement_offer::Column::EnteId.eq(agency.as_str()))
        .one(ctx.db)
        .await?
        .is_some();
    let facts = RequestFacts {
        is_requester: r.requester_id == agency,
        has_offer,
        matching: shelters.iter().any(fits),
        open: r.status == OPEN,
        overdue: false,
    };
    // An ente that could take the request saw it while it was open: a closed one answers
    // CONFLICT to it (below), not NOT_FOUND.
    let facts = RequestFacts {
        open: true,
        ..facts
    };
    if ctx.rules().request_sight(&viewer, facts) == RequestSight::Hidden {
        return Err(gone("placement request"));
    }
    if !ctx.rules().may_offer(&viewer, facts) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role offer places on this request".into(),
        ));
    }
    if r.status != OPEN {
        return Err(ApiError::ConflictAt {
            field: "requestId".into(),
            message: format!("the request is {}: it takes no more offers", r.status),
            current_version: r.version,
        });
    }
    if has_offer {
        return Err(ApiError::ConflictAt {
            field: "requestId".into(),
            message: "your agency already offered places on this request".into(),
            current_version: r.version,
        });
    }
    let contact = validate::required("contact", contact)?;
    let Some(own) = shelters.iter().find(|s| s.shelter.id == shelter_id) else {
        return Err(gone("shelter"));
    };
    if !fits(own) {
        return Err(ApiError::validation(
            "shelterId",
            "that shelter is not of the province, kind or group the request asks for",
        ));
    }
    // The request must still be open when the offer is written: a conditional update that
    // also orders this offer after any concurrent acceptance (row lock on PostgreSQL).
    if !sql::touch_open_request(ctx.db, request_id).await? {
        return Err(ApiError::ConflictAt {
            field: "requestId".into(),
            message: "the request was closed meanwhile: it takes no more offers".into(),
            current_version: r.version,
        });
    }
    // Hold the places, only while they are free.
    let places_wanted = r.people;
    if !sql::hold(ctx.db, shelter_id, places_wanted).await? {
        return Err(ApiError::ConflictAt {
            field: "shelterId".into(),
            message: format!(
                "the shelter no longer has {places_wanted} vacant places (another offer or a placement took them)"
            ),
            current_version: own.places.as_ref().map_or(0, |p| p.version),
        });
    }
    let model = placement_offer::Model {
        id: new_id(),
        request_id: request_id.to_string(),
        ente_id: agency.clone(),
        shelter_id: shelter_id.to_string(),
        offered_by: ctx.principal.user_id.clone(),
        places: places_wanted,
        contact,
        status: OFFERED.to_string(),
        offered_at: ctx.now,
        decided_at: None,
    };
    let active: placement_offer::ActiveModel = model.clone().into();
    if let Err(e) = placement_offer::Entity::insert(active)
        .exec_without_returning(ctx.db)
        .await
    {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::ConflictAt {
                field: "requestId".into(),
                message: "your agency already offered places on this request".into(),
                current_version: r.version,
            },
            _ => e.into(),
        });
    }
    ctx.event(request_id, Some(&model.id), true, "OFFERED")
        .await?;
    ctx.log(
        "offerPlacement",
        format!("placement request {request_id}: offer {}", model.id),
    )
    .await?;
    Ok(model)
}

/// Declines every live offer of a request but `keep`, giving their places back.
async fn decline_others<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    request_id: &str,
    keep: Option<&str>,
) -> ApiResult<()> {
    let live = placement_offer::Entity::find()
        .filter(placement_offer::Column::RequestId.eq(request_id))
        .filter(placement_offer::Column::Status.eq(OFFERED))
        .order_by_asc(placement_offer::Column::Id)
        .all(ctx.db)
        .await?;
    for o in live {
        if Some(o.id.as_str()) == keep {
            continue;
        }
        if sql::set_offer_status(ctx.db, &o.id, &[OFFERED], DECLINED, ctx.now).await? {
            sql::release(ctx.db, &o.shelter_id, o.places).await?;
            ctx.event(request_id, Some(&o.id), false, DECLINED).await?;
        }
    }
    Ok(())
}

async fn offer_and_request<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    offer_id: &str,
) -> ApiResult<(placement_offer::Model, RequestView)> {
    let Some(o) = placement_offer::Entity::find_by_id(offer_id.to_string())
        .one(ctx.db)
        .await?
    else {
        return Err(gone("placement offer"));
    };
    let Some(view) = request_view(ctx, &o.request_id).await? else {
        return Err(gone("placement offer"));
    };
    // The offer must be one the viewer sees (the requester: all; an ente: its own).
    if !view.offers.iter().any(|x| x.id == o.id) {
        return Err(gone("placement offer"));
    }
    Ok((o, view))
}

fn decide_facts(view: &RequestView) -> RequestFacts {
    RequestFacts {
        is_requester: view.sight == RequestSight::Requester,
        has_offer: false,
        matching: false,
        open: view.request.status == OPEN,
        overdue: view.overdue,
    }
}

/// The requester accepts one offer: the request closes, the other offers are declined and
/// their places given back. A second acceptance is `CONFLICT`.
pub async fn accept<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    offer_id: &str,
) -> ApiResult<String> {
    let (o, view) = offer_and_request(ctx, offer_id).await?;
    if !ctx
        .rules()
        .may_decide(&ctx.principal.viewer(), decide_facts(&view))
    {
        return Err(ApiError::Forbidden(
            "only the agency that asked for the places accepts an offer".into(),
        ));
    }
    let r = &view.request;
    if !sql::close_request(ctx.db, &r.id, &[OPEN], ACCEPTED, Some(&o.id), ctx.now).await? {
        return Err(ApiError::ConflictAt {
            field: "offerId".into(),
            message:
                "the request is no longer open: an offer was already accepted, or it was withdrawn"
                    .into(),
            current_version: r.version,
        });
    }
    if !sql::set_offer_status(ctx.db, &o.id, &[OFFERED], ACCEPTED, ctx.now).await? {
        return Err(ApiError::ConflictAt {
            field: "offerId".into(),
            message: format!("the offer is {}: it cannot be accepted", o.status),
            current_version: r.version,
        });
    }
    ctx.event(&r.id, Some(&o.id), true, ACCEPTED).await?;
    decline_others(ctx, &r.id, Some(&o.id)).await?;
    ctx.log(
        "acceptPlacementOffer",
        format!("placement request {}: offer {} accepted", r.id, o.id),
    )
    .await?;
    Ok(r.id.clone())
}

/// The requester withdraws its request (open or accepted, not yet placed): every live offer is
/// declined and its places given back.
pub async fn withdraw_request<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    id: &str,
) -> ApiResult<String> {
    let Some(view) = request_view(ctx, id).await? else {
        return Err(gone("placement request"));
    };
    if !ctx
        .rules()
        .may_decide(&ctx.principal.viewer(), decide_facts(&view))
    {
        return Err(ApiError::Forbidden(
            "only the agency that asked for the places withdraws the request".into(),
        ));
    }
    let r = &view.request;
    if !sql::close_request(ctx.db, id, &[OPEN, ACCEPTED], WITHDRAWN, None, ctx.now).await? {
        return Err(ApiError::ConflictAt {
            field: "id".into(),
            message: format!("the request is {}: it cannot be withdrawn", r.status),
            current_version: r.version,
        });
    }
    if let Some(accepted) = view.accepted() {
        if sql::set_offer_status(ctx.db, &accepted.id, &[ACCEPTED], DECLINED, ctx.now).await? {
            sql::release(ctx.db, &accepted.shelter_id, accepted.places).await?;
        }
    }
    decline_others(ctx, id, None).await?;
    ctx.event(id, None, true, WITHDRAWN).await?;
    ctx.log(
        "withdrawPlacementRequest",
        format!("placement request {id}"),
    )
    .await?;
    Ok(id.to_string())
}

/// An ente withdraws its own offer while it is not accepted; its places are given back.
pub async fn withdraw_offer<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    offer_id: &str,
) -> ApiResult<String> {
    let (o, view) = offer_and_request(ctx, offer_id).await?;
    if Some(o.ente_id.as_str()) != ctx.principal.agency_id()
        || !ctx.rules().may_manage_places(&ctx.principal.viewer())
    {
        return Err(ApiError::Forbidden(
            "only the ente that made the offer withdraws it".into(),
        ));
    }
    if !sql::set_offer_status(ctx.db, &o.id, &[OFFERED], WITHDRAWN, ctx.now).await? {
        return Err(ApiError::ConflictAt {
            field: "offerId".into(),
            message: format!("the offer is {}: it cannot be withdrawn", o.status),
            current_version: view.request.version,
        });
    }
    sql::release(ctx.db, &o.shelter_id, o.places).await?;
    ctx.event(&o.request_id, Some(&o.id), true, "OFFER_WITHDRAWN")
        .await?;
    ctx.log(
        "withdrawPlacementOffer",
        format!("placement offer {}", o.id),
    )
    .await?;
    Ok(o.request_id)
}

/// The ente whose offer was accepted records that the person arrived: the request is placed and
/// the held places are given back (the case placed in the shelter now counts in occupancy).
pub async fn complete<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    request_id: &str,
) -> ApiResult<String> {
    let Some(view) = request_view(ctx, request_id).await? else {
        return Err(gone("placement request"));
    };
    let Some(accepted) = view.accepted().cloned() else {
        return Err(match view.sight {
            RequestSight::Inbox if view.request.status != ACCEPTED => ApiError::ConflictAt {
                field: "requestId".into(),
                message: format!(
                    "the request is {}: there is no accepted offer to complete",
                    view.request.status
                ),
                current_version: view.request.version,
            },
            _ => ApiError::Forbidden(
                "only the ente whose offer was accepted records the placement".into(),
            ),
        });
    };
    if Some(accepted.ente_id.as_str()) != ctx.principal.agency_id()
        || !ctx.rules().may_manage_places(&ctx.principal.viewer())
    {
        return Err(ApiError::Forbidden(
            "only the ente whose offer was accepted records the placement".into(),
        ));
    }
    if !sql::close_request(
        ctx.db,
        request_id,
        &[ACCEPTED],
        PLACED,
        Some(&accepted.id),
        ctx.now,
    )
    .await?
    {
        return Err(ApiError::ConflictAt {
            field: "requestId".into(),
            message: format!(
                "the request is {}: it cannot be placed",
                view.request.status
            ),
            current_version: view.request.version,
        });
    }
    if sql::set_offer_status(ctx.db, &accepted.id, &[ACCEPTED], PLACED, ctx.now).await? {
        sql::release(ctx.db, &accepted.shelter_id, accepted.places).await?;
    }
    ctx.event(request_id, Some(&accepted.id), true, PLACED)
        .await?;
    ctx.log(
        "completePlacement",
        format!("placement request {request_id}"),
    )
    .await?;
    Ok(request_id.to_string())
}

/// Agencies by id, for the requester and the enti of offers.
pub async fn agencies<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> ApiResult<HashMap<String, agency::Model>> {
    let ids: HashSet<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(agency::Entity::find()
        .filter(agency::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect())
}

// ------------------------------------------------------------------------------------------------
// Statistics
// ------------------------------------------------------------------------------------------------

/// Exact counts of the viewer's agency's own requests made in a period, for one province.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnStatistics {
    /// The province (sigla) counted.
    pub province: String,
    /// Requests made.
    pub requests: u64,
    /// Places asked for.
    pub places: u64,
    /// Offers received.
    pub offers: u64,
    /// Requests with an offer accepted (placed or not yet).
    pub accepted: u64,
    /// Requests withdrawn without an accepted offer, or still open past their window.
    pub unmet: u64,
    /// Median hours from asking to accepting an offer, over the accepted requests.
    pub median_hours_to_placement: Option<f64>,
}

/// Exact statistics of the viewer's agency's own requests made from `from` to `to` (UTC days,
/// both included), per province. Only the requester's own: wider ones come from releases.
pub async fn own_statistics<C: ConnectionTrait>(
    ctx: &PlacesCtx<'_, C>,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> ApiResult<Vec<OwnStatistics>> {
    if !ctx.rules().may_read_own_statistics(&ctx.principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol gives your agency or role no placement statistics of its own".into(),
        ));
    }
    if to < from {
        return Err(ApiError::validation(
            "to",
            "the period ends before it starts",
        ));
    }
    let agency = ctx.agency()?;
    let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = (to + chrono::Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let rows = placement_request::Entity::find()
        .filter(placement_request::Column::RequesterId.eq(agency))
        .filter(placement_request::Column::RequestedAt.gte(start))
        .filter(placement_request::Column::RequestedAt.lt(end))
        .all(ctx.db)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut offers: HashMap<String, u64> = HashMap::new();
    for o in placement_offer::Entity::find()
        .filter(placement_offer::Column::RequestId.is_in(ids))
        .all(ctx.db)
        .await?
    {
        *offers.entry(o.request_id).or_default() += 1;
    }
    let mut by_province: BTreeMap<String, (OwnStatistics, Vec<f64>)> = BTreeMap::new();
    for r in rows {
        let n = offers.get(&r.id).copied().unwrap_or(0);
        let urgency: Urgency = parse("urgency", &r.urgency)?;
        let open = r.status == OPEN;
        let overdue =
            ctx.rules()
                .overdue(urgency, (ctx.now - r.requested_at).num_seconds(), open, n);
        let accepted = r.accepted_offer_id.is_some() && r.status != WITHDRAWN;
        let entry = by_province.entry(r.province.clone()).or_insert_with(|| {
            (
                OwnStatistics {
                    province: r.province.clone(),
                    requests: 0,
                    places: 0,
                    offers: 0,
                    accepted: 0,
                    unmet: 0,
                    median_hours_to_placement: None,
                },
                Vec::new(),
            )
        });
        entry.0.requests += 1;
        entry.0.places += u64::try_from(r.people).unwrap_or(0);
        entry.0.offers += n;
        if accepted {
            entry.0.accepted += 1;
            if let Some(closed) = r.closed_at {
                entry
                    .1
                    .push((closed - r.requested_at).num_seconds() as f64 / 3600.0);
            }
        } else if r.status == WITHDRAWN || overdue {
            entry.0.unmet += 1;
        }
    }
    Ok(by_province
        .into_values()
        .map(|(mut s, mut hours)| {
            hours.sort_by(|a, b| a.total_cmp(b));
            s.median_hours_to_placement = match hours.len() {
                0 => None,
                n if n % 2 == 1 => Some(hours[n / 2]),
                n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
            };
            s
        })
        .collect())
}
