//! Shelter places, vacancies and placement requests over GraphQL (issue 18). Thin: each
//! resolver hands plain inputs to [`crate::places`], which asks the policy; mutations run in one
//! write transaction each.

use async_graphql::{Context, Enum, InputObject, Object, ID};
use raccordo_entities::{agency, placement_event, placement_offer, shelter_places};
use raccordo_policies::places::{self as rules, RequestSight};

use super::{
    enums::StatisticsScope,
    scalars::{Date, DateTime},
    types::{agency::Agency, network::Shelter},
    ContextExt,
};
use crate::{
    error::{ApiError, ApiResult},
    places::{self, Mailbox, OwnShelter, PlacesCtx, RequestView},
};

/// The kind of a shelter (tipologia di struttura).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "raccordo_policies::places::ShelterKind")]
pub enum ShelterKind {
    /// Pronto intervento: emergency reception.
    ProntoIntervento,
    /// Prima accoglienza: first reception.
    PrimaAccoglienza,
    /// Seconda accoglienza: second reception.
    SecondaAccoglienza,
    /// Semi-autonomy housing.
    SemiAutonomy,
    /// Low-threshold reception (bassa soglia).
    LowThreshold,
}

/// Who a shelter takes; a shelter takes one group.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "raccordo_policies::places::PlaceGroup")]
pub enum PlaceGroup {
    /// Women.
    Women,
    /// Men.
    Men,
    /// Trans people.
    Trans,
    /// Mothers with their children (every child takes a place).
    MothersWithChildren,
    /// Unaccompanied minors.
    Minors,
}

/// How soon the places are needed.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "raccordo_policies::places::Urgency")]
pub enum PlacementUrgency {
    /// Tonight: the person has nowhere safe to go.
    Immediate,
    /// Within a day.
    #[graphql(name = "WITHIN_24_HOURS")]
    Within24Hours,
    /// Within three days.
    #[graphql(name = "WITHIN_72_HOURS")]
    Within72Hours,
}

/// Which placement requests to list.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementMailbox {
    /// The requests the viewer's agency made.
    Sent,
    /// Open requests one of the viewer's shelters could take now, and those it offered on.
    Inbox,
    /// Open requests without an offer past their urgency's window: the viewer's own, and for
    /// the Numero Verde everyone's.
    Overdue,
}

/// The places of one shelter, as its owner records them.
#[derive(InputObject)]
pub struct ShelterPlacesInput {
    /// The kind of shelter.
    pub kind: ShelterKind,
    /// Who it takes.
    pub takes: PlaceGroup,
    /// Places in all; not below the people placed there and the places on offer.
    pub capacity: i32,
    /// Places temporarily out of use (0 when none).
    #[graphql(default)]
    pub unavailable: i32,
    /// Why places are out of use (required when `unavailable` is above 0).
    pub unavailable_reason: Option<String>,
}

/// A request for places. It holds no names or identity data.
#[derive(InputObject)]
pub struct PlacementRequestInput {
    /// Places needed: every person, children included (at least 1).
    pub people: i32,
    /// Of them, minors (0 when none).
    #[graphql(default)]
    pub minors: i32,
    /// Who the places are for.
    pub takes: PlaceGroup,
    /// The kind of shelter needed; any when left out.
    pub kind: Option<ShelterKind>,
    /// How soon.
    pub urgency: PlacementUrgency,
    /// The province the places are needed in (sigla).
    pub province: String,
    /// How the enti reach the requester (an office phone, a desk e-mail): never a person's
    /// name.
    pub contact: String,
}

/// One shelter of the viewer's agency with its places: the owner's full view.
pub struct ShelterPlaces(OwnShelter);

/// One shelter of the viewer's agency with its places. Only its owner ever sees this.
#[Object]
impl ShelterPlaces {
    /// The shelter (its address is secret).
    async fn shelter(&self) -> Shelter {
        Shelter(self.0.shelter.clone())
    }
    /// The kind of shelter; null until the places are recorded.
    async fn kind(&self) -> Option<ShelterKind> {
        self.places()
            .and_then(|p| p.kind.parse::<rules::ShelterKind>().ok())
            .map(Into::into)
    }
    /// Who it takes; null until the places are recorded.
    async fn takes(&self) -> Option<PlaceGroup> {
        self.places()
            .and_then(|p| p.takes.parse::<rules::PlaceGroup>().ok())
            .map(Into::into)
    }
    /// Places in all (0 until recorded).
    async fn capacity(&self) -> i32 {
        self.places().map_or(0, |p| p.capacity)
    }
    /// People in the open cases placed here, minors included: counted, never typed in.
    async fn occupancy(&self) -> i64 {
        self.0.occupancy
    }
    /// Places temporarily out of use.
    async fn unavailable(&self) -> i32 {
        self.places().map_or(0, |p| p.unavailable)
    }
    /// Why places are out of use.
    async fn unavailable_reason(&self) -> Option<&str> {
        self.places().and_then(|p| p.unavailable_reason.as_deref())
    }
    /// Places held by live offers (offered, or accepted and not yet placed).
    async fn on_offer(&self) -> i32 {
        self.places().map_or(0, |p| p.on_offer)
    }
    /// Capacity minus occupancy, unavailable places and places on offer (never below 0).
    async fn vacancies(&self) -> i64 {
        self.0.vacancies()
    }
    /// The places' version (0 until recorded), for `setShelterPlaces(version:)`.
    async fn version(&self) -> i32 {
        self.places().map_or(0, |p| p.version)
    }
}

impl ShelterPlaces {
    fn places(&self) -> Option<&shelter_places::Model> {
        self.0.places.as_ref()
    }
}

/// Vacancies of one province × kind of shelter × who it takes. Never a shelter.
pub struct VacancyCell(places::VacancyCell);

/// Vacancies of one province × kind × group. A count needs at least `min_shelters` shelters
/// behind it (the protocol document); otherwise it is suppressed, whatever it is.
#[Object]
impl VacancyCell {
    /// Province (a sigla, or OTHER for provinces the protocol does not list by name).
    async fn province(&self) -> &str {
        &self.0.province
    }
    /// The kind of shelter.
    async fn kind(&self) -> ShelterKind {
        self.0.kind.into()
    }
    /// Who the places are for.
    async fn takes(&self) -> PlaceGroup {
        self.0.takes.into()
    }
    /// Vacant places; null when suppressed.
    async fn count(&self) -> Option<i64> {
        self.0.count.map(|c| i64::try_from(c).unwrap_or(i64::MAX))
    }
    /// Whether the count is hidden because too few shelters make it up.
    async fn suppressed(&self) -> bool {
        self.0.count.is_none()
    }
}

/// Exact statistics of the viewer's agency's own placement requests in one province.
pub struct PlacementStatistics(places::OwnStatistics);

/// Exact counts of the viewer's agency's own placement requests made in a period, in one
/// province. Nobody gets others' requests here: network figures come only from releases.
#[Object]
impl PlacementStatistics {
    /// The province asked for.
    async fn province(&self) -> &str {
        &self.0.province
    }
    /// Requests made.
    async fn requests(&self) -> u64 {
        self.0.requests
    }
    /// Places asked for.
    async fn places(&self) -> u64 {
        self.0.places
    }
    /// Offers received.
    async fn offers(&self) -> u64 {
        self.0.offers
    }
    /// Requests with an offer accepted.
    async fn accepted(&self) -> u64 {
        self.0.accepted
    }
    /// Requests withdrawn without an accepted offer, or open past their window without one.
    async fn unmet(&self) -> u64 {
        self.0.unmet
    }
    /// Median hours from asking to accepting an offer; null when none was accepted.
    async fn median_hours_to_placement(&self) -> Option<f64> {
        self.0.median_hours_to_placement
    }
}

/// A placement request as the viewer may see it.
pub struct PlacementRequest {
    view: RequestView,
    agencies: std::sync::Arc<std::collections::HashMap<String, agency::Model>>,
}

impl PlacementRequest {
    fn agency(&self, id: &str) -> ApiResult<Agency> {
        self.agencies
            .get(id)
            .cloned()
            .map(Agency)
            .ok_or_else(|| ApiError::Internal(format!("agency {id} missing").into()))
    }
}

/// A request for emergency places. It holds no names. The requester sees every offer (the ente
/// and its contact, never a shelter); an ente sees only its own offer.
#[Object]
impl PlacementRequest {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.view.request.id.clone())
    }
    /// The agency that asked.
    async fn requester(&self) -> ApiResult<Agency> {
        self.agency(&self.view.request.requester_id)
    }
    /// Places needed: every person, children included.
    async fn people(&self) -> i32 {
        self.view.request.people
    }
    /// Of them, minors.
    async fn minors(&self) -> i32 {
        self.view.request.minors
    }
    /// Who the places are for.
    async fn takes(&self) -> Option<PlaceGroup> {
        self.view
            .request
            .takes
            .parse::<rules::PlaceGroup>()
            .ok()
            .map(Into::into)
    }
    /// The kind of shelter asked for; null: any.
    async fn kind(&self) -> Option<ShelterKind> {
        self.view
            .request
            .kind
            .as_deref()
            .and_then(|k| k.parse::<rules::ShelterKind>().ok())
            .map(Into::into)
    }
    /// How soon.
    async fn urgency(&self) -> Option<PlacementUrgency> {
        self.view
            .request
            .urgency
            .parse::<rules::Urgency>()
            .ok()
            .map(Into::into)
    }
    /// The province asked for.
    async fn province(&self) -> &str {
        &self.view.request.province
    }
    /// How to reach the requester.
    async fn contact(&self) -> &str {
        &self.view.request.contact
    }
    /// `OPEN`, `ACCEPTED` (an offer was accepted), `PLACED` (the person arrived), `WITHDRAWN`.
    async fn status(&self) -> &str {
        &self.view.request.status
    }
    /// When it was asked.
    async fn requested_at(&self) -> DateTime {
        self.view.request.requested_at.into()
    }
    /// When an offer was accepted or the request withdrawn.
    async fn closed_at(&self) -> Option<DateTime> {
        self.view.request.closed_at.map(Into::into)
    }
    /// Open, without any offer, past its urgency's window: flagged to the requester and the
    /// Numero Verde.
    async fn overdue(&self) -> bool {
        self.view.overdue
    }
    /// The offers the viewer may see: every one for the requester, its own for an ente, none
    /// for anyone else. Never a shelter.
    async fn offers(&self) -> ApiResult<Vec<PlacementOffer>> {
        self.view
            .offers
            .iter()
            .map(|o| {
                Ok(PlacementOffer {
                    offer: o.clone(),
                    ente: self.agency(&o.ente_id)?,
                })
            })
            .collect()
    }
    /// The ente whose offer was accepted (the requester, and that ente, see it).
    async fn accepted_by(&self) -> ApiResult<Option<Agency>> {
        self.view
            .accepted()
            .map(|o| self.agency(&o.ente_id))
            .transpose()
    }
    /// The contact of the accepted offer.
    async fn accepted_contact(&self) -> Option<&str> {
        self.view.accepted().map(|o| o.contact.as_str())
    }
    /// Every step taken, for the requester (empty for anyone else).
    async fn steps(&self) -> ApiResult<Vec<PlacementStep>> {
        self.view
            .steps
            .iter()
            .map(|s| {
                Ok(PlacementStep {
                    step: s.clone(),
                    agency: s.agency_id.as_deref().map(|a| self.agency(a)).transpose()?,
                })
            })
            .collect()
    }
    /// Changes with each step.
    async fn version(&self) -> i32 {
        self.view.request.version
    }
}

/// An offer of places by an ente: who, how many, how to reach it. Never a shelter.
pub struct PlacementOffer {
    offer: placement_offer::Model,
    ente: Agency,
}

/// An offer of places by an ente. Never a shelter.
#[Object]
impl PlacementOffer {
    /// The offer's id.
    async fn id(&self) -> ID {
        ID(self.offer.id.clone())
    }
    /// The ente that offers.
    async fn ente(&self) -> &Agency {
        &self.ente
    }
    /// Places offered.
    async fn places(&self) -> i32 {
        self.offer.places
    }
    /// How to reach the ente about this offer.
    async fn contact(&self) -> &str {
        &self.offer.contact
    }
    /// `OFFERED`, `ACCEPTED`, `DECLINED` (another offer was accepted, or the request
    /// withdrawn), `WITHDRAWN` (by the ente), `PLACED`.
    async fn status(&self) -> &str {
        &self.offer.status
    }
    /// When it was offered.
    async fn offered_at(&self) -> DateTime {
        self.offer.offered_at.into()
    }
    /// When its status last changed.
    async fn decided_at(&self) -> Option<DateTime> {
        self.offer.decided_at.map(Into::into)
    }
}

/// One step of a placement request.
pub struct PlacementStep {
    step: placement_event::Model,
    agency: Option<Agency>,
}

/// One step of a placement request: what, when, by which agency. Never a shelter.
#[Object]
impl PlacementStep {
    /// `REQUESTED`, `OFFERED`, `ACCEPTED`, `DECLINED`, `OFFER_WITHDRAWN`, `WITHDRAWN`, `PLACED`.
    async fn event(&self) -> &str {
        &self.step.event
    }
    /// When.
    async fn at(&self) -> DateTime {
        self.step.at.into()
    }
    /// The agency that took the step; null when the hub did (an offer declined because
    /// another was accepted).
    async fn agency(&self) -> Option<&Agency> {
        self.agency.as_ref()
    }
}

/// The service's context for a read, outside any transaction.
fn reader<'a>(ctx: &'a Context<'_>) -> ApiResult<PlacesCtx<'a, sea_orm::DatabaseConnection>> {
    let state = ctx.state();
    let request = ctx.request();
    Ok(PlacesCtx {
        db: &state.db,
        policy: &state.policy,
        principal: request.require()?,
        now: request.now,
    })
}

async fn present<C: sea_orm::ConnectionTrait>(
    db: &C,
    views: Vec<RequestView>,
) -> ApiResult<Vec<PlacementRequest>> {
    let ids = views.iter().flat_map(|v| {
        std::iter::once(v.request.requester_id.clone())
            .chain(v.offers.iter().map(|o| o.ente_id.clone()))
            .chain(v.steps.iter().filter_map(|s| s.agency_id.clone()))
    });
    let agencies = std::sync::Arc::new(places::agencies(db, ids.collect::<Vec<_>>()).await?);
    Ok(views
        .into_iter()
        .map(|view| PlacementRequest {
            view,
            agencies: agencies.clone(),
        })
        .collect())
}

/// Reads of places and placement requests.
#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// The viewer's agency's shelters with their places, occupancy and vacancies (the owner's
    /// full view; enti only).
    async fn shelter_places(&self, ctx: &Context<'_>) -> ApiResult<Vec<ShelterPlaces>> {
        let pctx = reader(ctx)?;
        Ok(places::own_shelters(&pctx)
            .await?
            .into_iter()
            .map(ShelterPlaces)
            .collect())
    }

    /// Vacancies per province × kind of shelter × who it takes, every cell (zeros included),
    /// never a shelter's name, address or id; a cell made up of fewer shelters than the protocol
    /// sets is suppressed. The filters only pick cells.
    async fn vacancies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this province (sigla).")] province: Option<String>,
        #[graphql(desc = "Only this kind of shelter.")] kind: Option<ShelterKind>,
        #[graphql(desc = "Only places for this group.")] takes: Option<PlaceGroup>,
    ) -> ApiResult<Vec<VacancyCell>> {
        let state = ctx.state();
        let request = ctx.request();
        Ok(places::vacancy_cells(
            &state.db,
            &state.policy,
            request.principal.as_ref(),
            province.as_deref(),
            kind.map(Into::into),
            takes.map(Into::into),
        )
        .await?
        .into_iter()
        .map(VacancyCell)
        .collect())
    }

    /// Exact statistics of the viewer's agency's own placement requests made in a period, per
    /// province (scope MINE). Others' requests are never counted here.
    async fn placement_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period.")] from: Date,
        #[graphql(desc = "Last day of the period (not before `from`).")] to: Date,
        #[graphql(
            desc = "MINE (the default). NETWORK is refused: the network's placement figures come only from `statisticsRelease`, whose `placements` tables count requests with noise."
        )]
        scope: Option<StatisticsScope>,
    ) -> ApiResult<Vec<PlacementStatistics>> {
        if scope == Some(StatisticsScope::Network) {
            return Err(ApiError::validation(
                "scope",
                "the network's placement figures come only from statistics releases: read the `placements` tables of `statisticsRelease(period)`",
            ));
        }
        let pctx = reader(ctx)?;
        Ok(places::own_statistics(&pctx, from.0, to.0)
            .await?
            .into_iter()
            .map(PlacementStatistics)
            .collect())
    }

    /// Placement requests of one mailbox, newest first.
    async fn placement_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which requests.")] mailbox: PlacementMailbox,
    ) -> ApiResult<Vec<PlacementRequest>> {
        let state = ctx.state();
        let pctx = reader(ctx)?;
        let which = match mailbox {
            PlacementMailbox::Sent => Mailbox::Sent,
            PlacementMailbox::Inbox => Mailbox::Inbox,
            PlacementMailbox::Overdue => Mailbox::Overdue,
        };
        let views = places::mailbox(&pctx, which).await?;
        present(&state.db, views).await
    }

    /// One placement request as the viewer may see it; null when it does not exist for the
    /// viewer.
    async fn placement_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: ID,
    ) -> ApiResult<Option<PlacementRequest>> {
        let state = ctx.state();
        let pctx = reader(ctx)?;
        let Some(view) = places::request_view(&pctx, &id).await? else {
            return Ok(None);
        };
        debug_assert_ne!(view.sight, RequestSight::Hidden);
        Ok(present(&state.db, vec![view]).await?.pop())
    }
}

async fn reread(ctx: &Context<'_>, id: &str) -> ApiResult<PlacementRequest> {
    let state = ctx.state();
    let request = ctx.request();
    let principal = request.require()?;
    let pctx = PlacesCtx {
        db: &state.db,
        policy: &state.policy,
        principal,
        now: request.now,
    };
    let view = places::request_view(&pctx, id)
        .await?
        .ok_or(ApiError::NotFound("placement request"))?;
    present(&state.db, vec![view])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("placement request"))
}

/// Changes to places and placement requests.
#[derive(Default)]
pub struct PlacesMutation;

#[Object]
impl PlacesMutation {
    /// Records or changes the places of one of the viewer's agency's shelters.
    async fn set_shelter_places(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shelter (one of the viewer's agency's).")] shelter_id: ID,
        #[graphql(desc = "Kind, who it takes, capacity, places unavailable.")]
        input: ShelterPlacesInput,
        #[graphql(desc = "The places' current version; when given, a stale one is CONFLICT.")]
        version: Option<i32>,
    ) -> ApiResult<ShelterPlaces> {
        let plain = places::PlacesInput {
            kind: input.kind.into(),
            takes: input.takes.into(),
            capacity: input.capacity,
            unavailable: input.unavailable,
            unavailable_reason: input.unavailable_reason,
        };
        let own =
            places::changes::set_places(ctx.state(), ctx.request(), &shelter_id, &plain, version)
                .await?;
        Ok(ShelterPlaces(own))
    }

    /// Asks for places. The request holds no names; enti with a matching vacancy see it.
    async fn request_placement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many places, for whom, how urgent, where, and a contact.")]
        input: PlacementRequestInput,
    ) -> ApiResult<PlacementRequest> {
        let plain = places::RequestInput {
            people: input.people,
            minors: input.minors,
            takes: input.takes.into(),
            kind: input.kind.map(Into::into),
            urgency: input.urgency.into(),
            province: input.province,
            contact: input.contact,
        };
        let model = places::changes::request_placement(ctx.state(), ctx.request(), &plain).await?;
        reread(ctx, &model.id).await
    }

    /// Offers places from one of the viewer's shelters on a request it can see. The places are
    /// held until the offer is declined, withdrawn or placed.
    async fn offer_placement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] request_id: ID,
        #[graphql(desc = "The shelter the places are in (never shown to the requester).")]
        shelter_id: ID,
        #[graphql(desc = "How the requester reaches the ente about this offer.")] contact: String,
    ) -> ApiResult<PlacementRequest> {
        let offer = places::changes::offer(
            ctx.state(),
            ctx.request(),
            &request_id,
            &shelter_id,
            &contact,
        )
        .await?;
        reread(ctx, &offer.request_id).await
    }

    /// Accepts one offer (the requester): the request closes and the other offers are declined.
    async fn accept_placement_offer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offer.")] offer_id: ID,
    ) -> ApiResult<PlacementRequest> {
        let id = places::changes::accept(ctx.state(), ctx.request(), &offer_id).await?;
        reread(ctx, &id).await
    }

    /// Withdraws a request (the requester), open or accepted: every offer is declined.
    async fn withdraw_placement_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] id: ID,
    ) -> ApiResult<PlacementRequest> {
        let id = places::changes::withdraw_request(ctx.state(), ctx.request(), &id).await?;
        reread(ctx, &id).await
    }

    /// Withdraws the viewer's own offer while it is not accepted; its places are freed.
    async fn withdraw_placement_offer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offer.")] offer_id: ID,
    ) -> ApiResult<PlacementRequest> {
        let id = places::changes::withdraw_offer(ctx.state(), ctx.request(), &offer_id).await?;
        reread(ctx, &id).await
    }

    /// Records that the person arrived (the ente whose offer was accepted, after placing the
    /// case in its shelter): the places held by the offer are freed, occupancy counts the case.
    async fn complete_placement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] request_id: ID,
    ) -> ApiResult<PlacementRequest> {
        let id = places::changes::complete(ctx.state(), ctx.request(), &request_id).await?;
        reread(ctx, &id).await
    }
}
