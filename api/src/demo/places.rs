//! The demo's shelter places and three open placement requests (issue 18), so that a questura
//! token sees the flow: `placementRequests(mailbox: SENT)` as `questura-bg`, the same request in
//! `micaela-bg`'s inbox, and `vacancies` with the Milan cell shown and the single-shelter cells
//! suppressed.
//!
//! Capacities are set from the demo's own occupancy (the open cases placed in each shelter), so
//! the vacancies are exactly the free places written here.

use chrono::{DateTime, Duration, Utc};
use raccordo_entities::{placement_event, placement_request, shelter, shelter_places};
use raccordo_policies::places::{PlaceGroup, ShelterKind, Urgency};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::ids::demo_id;
use crate::{error::ApiResult, places};

/// A demo shelter's places: shelter, kind, who it takes, free places, places unavailable, why.
type DemoPlaces = (
    &'static str,
    ShelterKind,
    PlaceGroup,
    i32,
    i32,
    Option<&'static str>,
);

const PLACES: [DemoPlaces; 11] = [
    (
        "shelter-a",
        ShelterKind::ProntoIntervento,
        PlaceGroup::MothersWithChildren,
        3,
        0,
        None,
    ),
    (
        "shelter-b",
        ShelterKind::PrimaAccoglienza,
        PlaceGroup::Women,
        2,
        1,
        Some("a room being repainted (demo)"),
    ),
    (
        "shelter-c",
        ShelterKind::SecondaAccoglienza,
        PlaceGroup::Women,
        1,
        0,
        None,
    ),
    (
        "shelter-d",
        ShelterKind::PrimaAccoglienza,
        PlaceGroup::Women,
        2,
        0,
        None,
    ),
    (
        "shelter-e",
        ShelterKind::SecondaAccoglienza,
        PlaceGroup::Women,
        0,
        0,
        None,
    ),
    (
        "shelter-f",
        ShelterKind::ProntoIntervento,
        PlaceGroup::Women,
        2,
        0,
        None,
    ),
    (
        "shelter-g",
        ShelterKind::PrimaAccoglienza,
        PlaceGroup::Women,
        1,
        0,
        None,
    ),
    (
        "shelter-h",
        ShelterKind::SecondaAccoglienza,
        PlaceGroup::Women,
        1,
        0,
        None,
    ),
    (
        "shelter-i",
        ShelterKind::PrimaAccoglienza,
        PlaceGroup::Women,
        2,
        0,
        None,
    ),
    (
        "shelter-j",
        ShelterKind::SecondaAccoglienza,
        PlaceGroup::Men,
        2,
        0,
        None,
    ),
    (
        "shelter-k",
        ShelterKind::PrimaAccoglienza,
        PlaceGroup::Women,
        1,
        0,
        None,
    ),
];

/// A demo placement request: key, requester, people, minors, group, kind, urgency, province,
/// contact, hours ago.
type DemoRequest = (
    &'static str,
    &'static str,
    i32,
    i32,
    PlaceGroup,
    Option<ShelterKind>,
    Urgency,
    &'static str,
    &'static str,
    i64,
);

/// Three open requests: a questura's emergency for a mother and her child in Bergamo (Micaela's
/// emergency shelter can take it), the Brescia questura's four women (seed 001; no shelter in
/// Brescia has four places, so it is overdue and flagged to the Numero Verde), and the Numero
/// Verde's own request for one woman in Milan.
const REQUESTS: [DemoRequest; 3] = [
    (
        "questura-bg-mother-child",
        "questura-bg",
        2,
        1,
        PlaceGroup::MothersWithChildren,
        Some(ShelterKind::ProntoIntervento),
        Urgency::Immediate,
        "BG",
        "Ufficio immigrazione, 035 000 0000 (demo)",
        1,
    ),
    (
        "questura-bs-four-women",
        "questura-bs",
        4,
        0,
        PlaceGroup::Women,
        Some(ShelterKind::PrimaAccoglienza),
        Urgency::Within24Hours,
        "BS",
        "Ufficio immigrazione, 030 000 0000 (demo)",
        30,
    ),
    (
        "numero-verde-one-woman",
        "numero-verde",
        1,
        0,
        PlaceGroup::Women,
        None,
        Urgency::Within72Hours,
        "MI",
        "Postazione centrale, 800 290 290 (demo)",
        3,
    ),
];

/// Loads the places and the requests, after the network and the cases.
pub async fn load<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> ApiResult<()> {
    let ids: Vec<String> = PLACES.iter().map(|p| p.0.to_string()).collect();
    let present: Vec<String> = shelter::Entity::find()
        .filter(shelter::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let occupancy = places::occupancy(db, &ids).await?;
    let mut rows = Vec::new();
    for (id, kind, takes, free, unavailable, reason) in PLACES {
        if !present.iter().any(|p| p == id) {
            continue;
        }
        let occupied = i32::try_from(occupancy.get(id).copied().unwrap_or(0)).unwrap_or(0);
        rows.push(shelter_places::ActiveModel {
            shelter_id: Set(id.to_string()),
            kind: Set(kind.as_str().to_string()),
            takes: Set(takes.as_str().to_string()),
            capacity: Set(occupied + free + unavailable),
            unavailable: Set(unavailable),
            unavailable_reason: Set(reason.map(str::to_string)),
            on_offer: Set(0),
            version: Set(1),
            updated_at: Set(now),
        });
    }
    if !rows.is_empty() {
        shelter_places::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    for (key, requester, people, minors, takes, kind, urgency, province, contact, hours) in REQUESTS
    {
        let id = demo_id("placement-request", key);
        let at = now - Duration::hours(hours);
        placement_request::Entity::insert(placement_request::ActiveModel {
            id: Set(id.clone()),
            requester_id: Set(requester.to_string()),
            requested_by: Set(format!("operator-{requester}")),
            people: Set(people),
            minors: Set(minors),
            takes: Set(takes.as_str().to_string()),
            kind: Set(kind.map(|k| k.as_str().to_string())),
            urgency: Set(urgency.as_str().to_string()),
            province: Set(province.to_string()),
            contact: Set(contact.to_string()),
            status: Set(places::OPEN.to_string()),
            accepted_offer_id: Set(None),
            requested_at: Set(at),
            closed_at: Set(None),
            version: Set(1),
        })
        .exec_without_returning(db)
        .await?;
        placement_event::Entity::insert(placement_event::ActiveModel {
            id: Set(demo_id("placement-event", key)),
            request_id: Set(id),
            offer_id: Set(None),
            at: Set(at),
            agency_id: Set(Some(requester.to_string())),
            user_id: Set(Some(format!("operator-{requester}"))),
            event: Set("REQUESTED".to_string()),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}
