//! Shelter places, vacancies and emergency placement requests (ACCESS.md §8, issue 18): what the
//! `[places]` section of the protocol document says, and the pure decisions built on it.
//!
//! Nothing here knows a shelter's name or address: the `api` crate hands in counts and facts,
//! and asks who may see or do what. The rules:
//!
//! - A shelter's owner sees and changes its own places in full (`[places] offerers`, acting
//!   roles). Occupancy is never entered: it follows from the open cases placed in the shelter.
//! - The kinds in `vacancy_readers` see vacancies only as counts per province × kind of
//!   shelter × who it takes, and a count only when at least `min_shelters` shelters make it up
//!   (see [`PlacesPolicy::vacancy_cell`] for why).
//! - Placement requests hold no names. The requester sees every offer (the ente and its contact,
//!   never a shelter); an ente sees an open request when one of its shelters has a matching
//!   vacancy, and afterwards the requests it offered on; the `overdue_watchers` (the Numero
//!   Verde) see open requests that got no offer within the urgency's window.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{AgencyKind, UnknownName, UserRole, Viewer};
use crate::policy::{bit, Mask};
use crate::{PolicyError, PolicyErrorKind};

/// The kind of a shelter (tipologia di struttura).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
named_enum!(ShelterKind, 5, {
    ProntoIntervento => "PRONTO_INTERVENTO",
    PrimaAccoglienza => "PRIMA_ACCOGLIENZA",
    SecondaAccoglienza => "SECONDA_ACCOGLIENZA",
    SemiAutonomy => "SEMI_AUTONOMY",
    LowThreshold => "LOW_THRESHOLD",
});

/// Who a shelter takes. Each shelter takes exactly one group, so every shelter counts in exactly
/// one vacancy cell of its province and kind (no overlapping cells to subtract from each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
named_enum!(PlaceGroup, 5, {
    Women => "WOMEN",
    Men => "MEN",
    Trans => "TRANS",
    MothersWithChildren => "MOTHERS_WITH_CHILDREN",
    Minors => "MINORS",
});

/// How soon a placement is needed; each urgency has a window (`[places.windows]`) after which a
/// request without an offer is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Urgency {
    /// Tonight: the person has nowhere safe to go.
    Immediate,
    /// Within a day.
    Within24Hours,
    /// Within three days.
    Within72Hours,
}
named_enum!(Urgency, 3, {
    Immediate => "IMMEDIATE",
    Within24Hours => "WITHIN_24_HOURS",
    Within72Hours => "WITHIN_72_HOURS",
});

/// The `[places]` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlacesDoc {
    pub offerers: Spanned<Vec<AgencyKind>>,
    pub vacancy_readers: Spanned<Vec<AgencyKind>>,
    pub vacancy_roles: Spanned<Vec<UserRole>>,
    pub requesters: Spanned<Vec<AgencyKind>>,
    pub overdue_watchers: Spanned<Vec<AgencyKind>>,
    pub min_shelters: Spanned<i64>,
    pub windows: WindowsDoc,
}

/// `[places.windows]`: hours without an offer before a request is flagged, per urgency.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowsDoc {
    #[serde(rename = "IMMEDIATE")]
    pub immediate: Spanned<i64>,
    #[serde(rename = "WITHIN_24_HOURS")]
    pub within_24_hours: Spanned<i64>,
    #[serde(rename = "WITHIN_72_HOURS")]
    pub within_72_hours: Spanned<i64>,
}

/// What a viewer may learn of one placement request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSight {
    /// Nothing: the request does not exist for the viewer (`NOT_FOUND`, like an id never used).
    Hidden,
    /// The request, and only the viewer's own offers (an ente with a matching vacancy, or one
    /// that offered).
    Inbox,
    /// The request without any offer (the Numero Verde, for a request overdue).
    Watcher,
    /// The request and every offer: the ente and its contact, never a shelter.
    Requester,
}

/// What the `api` crate knows about a request and a viewer's agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestFacts {
    /// The viewer's agency made the request.
    pub is_requester: bool,
    /// The viewer's agency made an offer on it (in any state).
    pub has_offer: bool,
    /// One of the viewer's agency's shelters has a vacancy that matches the request.
    pub matching: bool,
    /// The request is still open (no offer accepted, not withdrawn).
    pub open: bool,
    /// Open, no offer, past the urgency's window.
    pub overdue: bool,
}

/// A refused change of a shelter's places: the input field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacesRefusal {
    /// The input field (`capacity`, `unavailable`).
    pub field: &'static str,
    /// Why, in the partner's words.
    pub message: String,
}

/// What a shelter offers, as far as matching goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceSpec<'a> {
    /// The shelter's province (sigla); a shelter without one matches no request.
    pub province: Option<&'a str>,
    /// Its kind.
    pub kind: ShelterKind,
    /// Who it takes.
    pub takes: PlaceGroup,
    /// Its vacancies now.
    pub vacancies: i64,
}

/// What a request asks for, as far as matching goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedSpec<'a> {
    /// The province asked for.
    pub province: &'a str,
    /// The kind asked for; `None`: any kind.
    pub kind: Option<ShelterKind>,
    /// Who the places are for.
    pub takes: PlaceGroup,
    /// How many places (every person, children included).
    pub people: i64,
}

/// The `[places]` rules, validated and indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacesPolicy {
    pub(crate) offerers: Mask,
    pub(crate) vacancy_readers: Mask,
    pub(crate) vacancy_roles: Mask,
    pub(crate) requesters: Mask,
    pub(crate) overdue_watchers: Mask,
    /// Roles that act (`[roles] act`): the only ones that see or touch requests and places.
    pub(crate) act_roles: Mask,
    pub(crate) min_shelters: u32,
    /// Indexed by `Urgency as usize`.
    pub(crate) windows: [u32; 3],
}

fn has<T: Into<Mask>>(mask: Mask, x: T) -> bool {
    mask & bit(x) != 0
}

impl PlacesPolicy {
    /// Checks the section: offerers hold cases (occupancy is counted from cases), nobody who
    /// administers the hub reads vacancies, `min_shelters` of at least 2, a window for every
    /// urgency.
    pub(crate) fn build(
        doc: &PlacesDoc,
        case_holders: Mask,
        act_roles: Mask,
        admin_roles: Mask,
        at: &dyn Fn(Range<usize>, PolicyErrorKind, String) -> PolicyError,
    ) -> Result<PlacesPolicy, PolicyError> {
        const WHAT: &str = "[places]";
        let mask_of = |list: &Spanned<Vec<AgencyKind>>, name: &str| {
            let mut m: Mask = 0;
            for k in list.get_ref() {
                if has(m, *k) {
                    return Err(at(
                        list.span(),
                        PolicyErrorKind::Duplicate,
                        format!("{WHAT} {name}: {k} is listed twice"),
                    ));
                }
                m |= bit(*k);
            }
            Ok(m)
        };
        let offerers = mask_of(&doc.offerers, "offerers")?;
        if offerers & !case_holders != 0 {
            return Err(at(
                doc.offerers.span(),
                PolicyErrorKind::Contradiction,
                format!("{WHAT} offerers: only kinds in [cases] holders run shelters whose occupancy the hub counts"),
            ));
        }
        let vacancy_readers = mask_of(&doc.vacancy_readers, "vacancy_readers")?;
        let requesters = mask_of(&doc.requesters, "requesters")?;
        let overdue_watchers = mask_of(&doc.overdue_watchers, "overdue_watchers")?;
        let mut vacancy_roles: Mask = 0;
        for r in doc.vacancy_roles.get_ref() {
            if has(vacancy_roles, *r) {
                return Err(at(
                    doc.vacancy_roles.span(),
                    PolicyErrorKind::Duplicate,
                    format!("{WHAT} vacancy_roles: {r} is listed twice"),
                ));
            }
            if has(admin_roles, *r) {
                return Err(at(
                    doc.vacancy_roles.span(),
                    PolicyErrorKind::Contradiction,
                    format!("{WHAT} vacancy_roles: {r} administers the hub and reads no network counts of shelters"),
                ));
            }
            vacancy_roles |= bit(*r);
        }
        let min = *doc.min_shelters.get_ref();
        let min_shelters = u32::try_from(min)
            .ok()
            .filter(|m| (2..=50).contains(m))
            .ok_or_else(|| {
                at(
                    doc.min_shelters.span(),
                    PolicyErrorKind::OutOfRange,
                    format!("{WHAT} min_shelters = {min}: give 2 to 50 (1 would show one shelter's vacancies)"),
                )
            })?;
        let mut windows = [0u32; 3];
        for (u, hours) in [
            (Urgency::Immediate, &doc.windows.immediate),
            (Urgency::Within24Hours, &doc.windows.within_24_hours),
            (Urgency::Within72Hours, &doc.windows.within_72_hours),
        ] {
            let h = *hours.get_ref();
            windows[u as usize] = u32::try_from(h)
                .ok()
                .filter(|h| (1..=720).contains(h))
                .ok_or_else(|| {
                    at(
                        hours.span(),
                        PolicyErrorKind::OutOfRange,
                        format!("{WHAT} windows: {u} = {h}: give 1 to 720 hours"),
                    )
                })?;
        }
        Ok(PlacesPolicy {
            offerers,
            vacancy_readers,
            vacancy_roles,
            requesters,
            overdue_watchers,
            act_roles,
            min_shelters,
            windows,
        })
    }

    fn acts(&self, viewer: &Viewer) -> bool {
        viewer.agency_kind.is_some() && has(self.act_roles, viewer.role)
    }

    fn kind_in(&self, viewer: &Viewer, mask: Mask) -> bool {
        viewer.agency_kind.is_some_and(|k| has(mask, k))
    }

    /// Whether the viewer may record and change its own agency's places (capacity, kind, who it
    /// takes, places unavailable) and offer them.
    pub fn may_manage_places(&self, viewer: &Viewer) -> bool {
        self.acts(viewer) && self.kind_in(viewer, self.offerers)
    }

    /// Whether the viewer may read vacancy counts per province × kind × who it takes.
    pub fn may_read_vacancies(&self, viewer: Option<&Viewer>) -> bool {
        viewer.is_some_and(|v| {
            has(self.vacancy_roles, v.role) && self.kind_in(v, self.vacancy_readers)
        })
    }

    /// Whether the viewer may ask for places.
    pub fn may_request(&self, viewer: &Viewer) -> bool {
        self.acts(viewer) && self.kind_in(viewer, self.requesters)
    }

    /// What the viewer may learn of one request.
    pub fn request_sight(&self, viewer: &Viewer, facts: RequestFacts) -> RequestSight {
        if !self.acts(viewer) {
            return RequestSight::Hidden;
        }
        if facts.is_requester && self.kind_in(viewer, self.requesters) {
            return RequestSight::Requester;
        }
        let offerer = self.kind_in(viewer, self.offerers);
        if offerer && (facts.has_offer || (facts.open && facts.matching)) {
            return RequestSight::Inbox;
        }
        if facts.open && facts.overdue && self.kind_in(viewer, self.overdue_watchers) {
            return RequestSight::Watcher;
        }
        RequestSight::Hidden
    }

    /// Whether the viewer may offer places on the request (the request being open is checked
    /// by the caller's conditional write: a closed one is `CONFLICT`).
    pub fn may_offer(&self, viewer: &Viewer, facts: RequestFacts) -> bool {
        self.may_manage_places(viewer)
            && !facts.is_requester
            && self.request_sight(viewer, facts) == RequestSight::Inbox
    }

    /// Whether the viewer may accept an offer on, or withdraw, the request: only its requester.
    pub fn may_decide(&self, viewer: &Viewer, facts: RequestFacts) -> bool {
        self.request_sight(viewer, facts) == RequestSight::Requester
    }

    /// Whether the viewer sees every offer of the request (else only its own).
    pub fn sees_all_offers(&self, sight: RequestSight) -> bool {
        sight == RequestSight::Requester
    }

    /// Whether the viewer's agency is told about overdue requests it did not make.
    pub fn watches_overdue(&self, viewer: &Viewer) -> bool {
        self.acts(viewer) && self.kind_in(viewer, self.overdue_watchers)
    }

    /// Whether the viewer gets exact placement statistics over its own agency's requests (a
    /// requester kind, a role that reads vacancy counts: ANALYST included, counts not rows).
    /// Anything wider comes only from the releases of ACCESS.md §7.
    pub fn may_read_own_statistics(&self, viewer: &Viewer) -> bool {
        self.kind_in(viewer, self.requesters) && has(self.vacancy_roles, viewer.role)
    }

    /// The hours after which an open request without an offer is flagged.
    pub fn window_hours(&self, urgency: Urgency) -> u32 {
        self.windows[urgency as usize]
    }

    /// Whether a request is overdue `elapsed_seconds` after it was made: open, without any
    /// offer, past its window.
    pub fn overdue(&self, urgency: Urgency, elapsed_seconds: i64, open: bool, offers: u64) -> bool {
        open && offers == 0 && elapsed_seconds >= i64::from(self.window_hours(urgency)) * 3600
    }

    /// The fewest shelters a vacancy cell needs before its count is shown.
    pub fn min_shelters(&self) -> u32 {
        self.min_shelters
    }

    /// The published count of one vacancy cell (`None`: suppressed).
    ///
    /// Why a cell needs `min_shelters` shelters: a cell made of one shelter is that shelter.
    /// Its count moving by one right after a partner placed or referred a person tells the
    /// partner which shelter the person is in (the ente runs few shelters of a kind in a
    /// province, and enti are public), and a run of readings maps the shelter's occupancy. With
    /// at least `min_shelters` shelters behind a cell, a change says only "one of these". A
    /// cell is suppressed whatever its count (zero included), so which cells show a number says
    /// nothing about the vacancies; and the hub publishes no totals across cells, and every
    /// shelter counts in exactly one cell, so no suppressed cell can be recovered by
    /// subtraction.
    pub fn vacancy_cell(&self, shelters: u64, vacancies: i64) -> Option<u64> {
        (shelters >= u64::from(self.min_shelters)).then(|| u64::try_from(vacancies).unwrap_or(0))
    }

    /// The kinds that may offer places.
    pub fn offers_places(&self, kind: AgencyKind) -> bool {
        has(self.offerers, kind)
    }
}

/// A shelter's vacancies: capacity minus occupancy, places marked unavailable and places held
/// by live offers; never below zero (an owner may place more people than the capacity says).
pub fn vacancies(capacity: i64, occupancy: i64, unavailable: i64, on_offer: i64) -> i64 {
    (capacity - occupancy - unavailable - on_offer).max(0)
}

/// Checks a shelter's places as its owner sets them: no negative count, a capacity no lower
/// than the people placed there plus the places promised by live offers, and no more places
/// unavailable than are free.
pub fn check_places(
    capacity: i64,
    unavailable: i64,
    occupancy: i64,
    on_offer: i64,
) -> Result<(), PlacesRefusal> {
    if capacity < 0 {
        return Err(PlacesRefusal {
            field: "capacity",
            message: format!("capacity {capacity} is negative"),
        });
    }
    if unavailable < 0 {
        return Err(PlacesRefusal {
            field: "unavailable",
            message: format!("{unavailable} places unavailable is negative"),
        });
    }
    if capacity < occupancy + on_offer {
        return Err(PlacesRefusal {
            field: "capacity",
            message: format!(
                "capacity {capacity} is below the {occupancy} people placed in the shelter and the {on_offer} places offered"
            ),
        });
    }
    if unavailable > capacity - occupancy - on_offer {
        return Err(PlacesRefusal {
            field: "unavailable",
            message: format!(
                "only {} places are free to be marked unavailable",
                capacity - occupancy - on_offer
            ),
        });
    }
    Ok(())
}

/// Whether a shelter's vacancy matches a request: same province, same group, the kind asked for
/// (any kind when none), and room for everyone.
pub fn matches(place: PlaceSpec<'_>, need: NeedSpec<'_>) -> bool {
    place.province == Some(need.province)
        && place.takes == need.takes
        && need.kind.is_none_or(|k| k == place.kind)
        && place.vacancies >= need.people
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    fn policy() -> PlacesPolicy {
        Policy::default_protocol()
            .expect("the default protocol loads")
            .places()
            .clone()
    }

    fn v(kind: AgencyKind, role: UserRole) -> Viewer {
        Viewer {
            role,
            agency_kind: Some(kind),
        }
    }

    const ACT: [UserRole; 2] = [UserRole::Operator, UserRole::Coordinator];

    #[test]
    fn vacancy_readers_are_the_default_kinds_and_roles() {
        let p = policy();
        let readers = [
            AgencyKind::EnteAntitratta,
            AgencyKind::NumeroVerde,
            AgencyKind::Questura,
            AgencyKind::Prefettura,
        ];
        for kind in AgencyKind::ALL {
            for role in UserRole::ALL {
                let expected = readers.contains(&kind) && role != UserRole::PlatformAdmin;
                assert_eq!(
                    p.may_read_vacancies(Some(&v(kind, role))),
                    expected,
                    "{kind} {role}"
                );
            }
        }
        assert!(!p.may_read_vacancies(None));
        // A platform admin without an agency.
        assert!(!p.may_read_vacancies(Some(&Viewer {
            role: UserRole::PlatformAdmin,
            agency_kind: None
        })));
        // An analyst of a reader kind reads counts (aggregates), not rows.
        assert!(p.may_read_vacancies(Some(&v(AgencyKind::Questura, UserRole::Analyst))));
    }

    #[test]
    fn only_acting_enti_manage_places_and_only_listed_kinds_request() {
        let p = policy();
        let requesters = [
            AgencyKind::Questura,
            AgencyKind::Prefettura,
            AgencyKind::NumeroVerde,
            AgencyKind::CentroAntiviolenza,
            AgencyKind::EnteAntitratta,
        ];
        for kind in AgencyKind::ALL {
            for role in UserRole::ALL {
                let acts = ACT.contains(&role);
                assert_eq!(
                    p.may_manage_places(&v(kind, role)),
                    acts && kind == AgencyKind::EnteAntitratta,
                    "{kind} {role}"
                );
                assert_eq!(
                    p.may_request(&v(kind, role)),
                    acts && requesters.contains(&kind),
                    "{kind} {role}"
                );
                assert_eq!(
                    p.watches_overdue(&v(kind, role)),
                    acts && kind == AgencyKind::NumeroVerde,
                    "{kind} {role}"
                );
            }
        }
        let admin = Viewer {
            role: UserRole::PlatformAdmin,
            agency_kind: None,
        };
        assert!(!p.may_manage_places(&admin));
        assert!(!p.may_request(&admin));
        // An operator without an agency does nothing.
        let nobody = Viewer {
            role: UserRole::Operator,
            agency_kind: None,
        };
        assert!(!p.may_request(&nobody));
        assert!(!p.may_manage_places(&nobody));
        assert_eq!(
            p.request_sight(
                &nobody,
                RequestFacts {
                    is_requester: true,
                    ..Default::default()
                }
            ),
            RequestSight::Hidden
        );
    }

    /// Every combination of facts, for every kind and role, against the rule written out.
    #[test]
    fn request_sight_follows_the_rule_for_every_combination() {
        let p = policy();
        for kind in AgencyKind::ALL {
            for role in UserRole::ALL {
                for bits in 0u8..32 {
                    let facts = RequestFacts {
                        is_requester: bits & 1 != 0,
                        has_offer: bits & 2 != 0,
                        matching: bits & 4 != 0,
                        open: bits & 8 != 0,
                        overdue: bits & 16 != 0,
                    };
                    let viewer = v(kind, role);
                    let acts = ACT.contains(&role);
                    let requester_kind = matches!(
                        kind,
                        AgencyKind::Questura
                            | AgencyKind::Prefettura
                            | AgencyKind::NumeroVerde
                            | AgencyKind::CentroAntiviolenza
                            | AgencyKind::EnteAntitratta
                    );
                    let ente = kind == AgencyKind::EnteAntitratta;
                    let expected = if !acts {
                        RequestSight::Hidden
                    } else if facts.is_requester && requester_kind {
                        RequestSight::Requester
                    } else if ente && (facts.has_offer || (facts.open && facts.matching)) {
                        RequestSight::Inbox
                    } else if kind == AgencyKind::NumeroVerde && facts.open && facts.overdue {
                        RequestSight::Watcher
                    } else {
                        RequestSight::Hidden
                    };
                    let sight = p.request_sight(&viewer, facts);
                    assert_eq!(sight, expected, "{kind} {role} {facts:?}");
                    assert_eq!(
                        p.may_decide(&viewer, facts),
                        expected == RequestSight::Requester,
                        "{kind} {role} {facts:?}"
                    );
                    assert_eq!(
                        p.may_offer(&viewer, facts),
                        acts && ente && !facts.is_requester && expected == RequestSight::Inbox,
                        "{kind} {role} {facts:?}"
                    );
                    assert_eq!(
                        p.sees_all_offers(sight),
                        expected == RequestSight::Requester
                    );
                }
            }
        }
    }

    #[test]
    fn own_statistics_go_to_requester_kinds_in_counting_roles() {
        let p = policy();
        for kind in AgencyKind::ALL {
            for role in UserRole::ALL {
                let requester = matches!(
                    kind,
                    AgencyKind::Questura
                        | AgencyKind::Prefettura
                        | AgencyKind::NumeroVerde
                        | AgencyKind::CentroAntiviolenza
                        | AgencyKind::EnteAntitratta
                );
                assert_eq!(
                    p.may_read_own_statistics(&v(kind, role)),
                    requester && role != UserRole::PlatformAdmin,
                    "{kind} {role}"
                );
            }
        }
        assert!(!p.may_read_own_statistics(&Viewer {
            role: UserRole::PlatformAdmin,
            agency_kind: None
        }));
    }

    #[test]
    fn an_ente_never_offers_on_its_own_request() {
        let p = policy();
        let ente = v(AgencyKind::EnteAntitratta, UserRole::Operator);
        let own = RequestFacts {
            is_requester: true,
            matching: true,
            open: true,
            ..Default::default()
        };
        assert_eq!(p.request_sight(&ente, own), RequestSight::Requester);
        assert!(!p.may_offer(&ente, own));
        assert!(p.may_decide(&ente, own));
    }

    #[test]
    fn a_matching_ente_loses_sight_of_a_closed_request_it_did_not_offer_on() {
        let p = policy();
        let ente = v(AgencyKind::EnteAntitratta, UserRole::Operator);
        let closed = RequestFacts {
            matching: true,
            open: false,
            ..Default::default()
        };
        assert_eq!(p.request_sight(&ente, closed), RequestSight::Hidden);
        let offered = RequestFacts {
            has_offer: true,
            ..closed
        };
        assert_eq!(p.request_sight(&ente, offered), RequestSight::Inbox);
    }

    #[test]
    fn cells_need_min_shelters_whatever_their_count() {
        let p = policy();
        assert_eq!(p.min_shelters(), 3);
        assert_eq!(p.vacancy_cell(0, 0), None);
        assert_eq!(p.vacancy_cell(1, 9), None);
        assert_eq!(p.vacancy_cell(2, 9), None);
        assert_eq!(p.vacancy_cell(3, 9), Some(9));
        assert_eq!(p.vacancy_cell(3, 0), Some(0));
        assert_eq!(p.vacancy_cell(4, 1), Some(1));
        assert_eq!(p.vacancy_cell(5, -2), Some(0));
    }

    #[test]
    fn vacancies_subtract_everything_and_never_go_negative() {
        assert_eq!(vacancies(10, 3, 2, 1), 4);
        assert_eq!(vacancies(10, 0, 0, 0), 10);
        assert_eq!(vacancies(10, 10, 0, 0), 0);
        assert_eq!(vacancies(10, 9, 0, 1), 0);
        assert_eq!(vacancies(10, 9, 1, 0), 0);
        assert_eq!(vacancies(10, 12, 0, 0), 0);
        assert_eq!(vacancies(5, 1, 1, 1), 2);
    }

    #[test]
    fn places_are_checked_field_by_field() {
        assert_eq!(check_places(10, 0, 3, 2), Ok(()));
        assert_eq!(check_places(5, 0, 3, 2), Ok(()));
        assert_eq!(check_places(5, 0, 5, 0), Ok(()));
        assert_eq!(check_places(0, 0, 0, 0), Ok(()));
        assert_eq!(check_places(-1, 0, 0, 0).unwrap_err().field, "capacity");
        assert_eq!(check_places(5, -1, 0, 0).unwrap_err().field, "unavailable");
        assert_eq!(check_places(4, 0, 3, 2).unwrap_err().field, "capacity");
        assert_eq!(check_places(2, 0, 3, 0).unwrap_err().field, "capacity");
        assert_eq!(check_places(2, 0, 0, 3).unwrap_err().field, "capacity");
        assert_eq!(check_places(10, 6, 3, 2).unwrap_err().field, "unavailable");
        assert_eq!(check_places(10, 5, 3, 2), Ok(()));
        assert_eq!(check_places(10, 5, 3, 2), Ok(()));
        assert_eq!(check_places(10, 10, 0, 0), Ok(()));
        assert_eq!(check_places(10, 11, 0, 0).unwrap_err().field, "unavailable");
    }

    #[test]
    fn matching_needs_province_group_kind_and_room() {
        let place = PlaceSpec {
            province: Some("BG"),
            kind: ShelterKind::ProntoIntervento,
            takes: PlaceGroup::MothersWithChildren,
            vacancies: 2,
        };
        let need = NeedSpec {
            province: "BG",
            kind: Some(ShelterKind::ProntoIntervento),
            takes: PlaceGroup::MothersWithChildren,
            people: 2,
        };
        assert!(matches(place, need));
        assert!(matches(place, NeedSpec { kind: None, ..need }));
        assert!(!matches(place, NeedSpec { people: 3, ..need }));
        assert!(matches(place, NeedSpec { people: 1, ..need }));
        assert!(!matches(
            place,
            NeedSpec {
                province: "BS",
                ..need
            }
        ));
        assert!(!matches(
            place,
            NeedSpec {
                takes: PlaceGroup::Women,
                ..need
            }
        ));
        assert!(!matches(
            place,
            NeedSpec {
                kind: Some(ShelterKind::PrimaAccoglienza),
                ..need
            }
        ));
        assert!(!matches(
            PlaceSpec {
                province: None,
                ..place
            },
            need
        ));
    }

    #[test]
    fn overdue_needs_open_no_offer_and_the_window_passed() {
        let p = policy();
        let h = |n: i64| n * 3600;
        assert_eq!(p.window_hours(Urgency::Immediate), 2);
        assert_eq!(p.window_hours(Urgency::Within24Hours), 24);
        assert_eq!(p.window_hours(Urgency::Within72Hours), 72);
        assert!(!p.overdue(Urgency::Immediate, h(1), true, 0));
        assert!(!p.overdue(Urgency::Immediate, h(2) - 1, true, 0));
        assert!(p.overdue(Urgency::Immediate, h(2), true, 0));
        assert!(!p.overdue(Urgency::Immediate, h(3), true, 1));
        assert!(!p.overdue(Urgency::Immediate, h(3), false, 0));
        assert!(!p.overdue(Urgency::Within24Hours, h(23), true, 0));
        assert!(p.overdue(Urgency::Within24Hours, h(24), true, 0));
        assert!(!p.overdue(Urgency::Within72Hours, h(71), true, 0));
        assert!(p.overdue(Urgency::Within72Hours, h(72), true, 0));
    }

    #[test]
    fn names_round_trip() {
        for k in ShelterKind::ALL {
            assert_eq!(k.as_str().parse::<ShelterKind>(), Ok(k));
        }
        for g in PlaceGroup::ALL {
            assert_eq!(g.as_str().parse::<PlaceGroup>(), Ok(g));
        }
        for u in Urgency::ALL {
            assert_eq!(u.as_str().parse::<Urgency>(), Ok(u));
        }
        assert!("SHELTER".parse::<ShelterKind>().is_err());
        assert!(p_offers());
    }

    fn p_offers() -> bool {
        let p = policy();
        p.offers_places(AgencyKind::EnteAntitratta) && !p.offers_places(AgencyKind::Questura)
    }

    fn with(section: &str) -> Result<Policy, PolicyError> {
        let doc = crate::DEFAULT_PROTOCOL;
        let start = doc.find("[places]").expect("a [places] section");
        let end = start + doc[start..].find("# ---").expect("a following section");
        let mut edited = String::new();
        edited.push_str(&doc[..start]);
        edited.push_str(section);
        edited.push('\n');
        edited.push_str(&doc[end..]);
        Policy::from_toml(&edited)
    }

    const GOOD: &str = r#"[places]
offerers = ["ENTE_ANTITRATTA"]
vacancy_readers = ["ENTE_ANTITRATTA"]
vacancy_roles = ["OPERATOR"]
requesters = ["QUESTURA"]
overdue_watchers = ["NUMERO_VERDE"]
min_shelters = 3

[places.windows]
IMMEDIATE = 2
WITHIN_24_HOURS = 24
WITHIN_72_HOURS = 72
"#;

    #[test]
    fn the_section_is_checked() {
        assert!(with(GOOD).is_ok());
        let bad = |from: &str, to: &str| {
            let section = GOOD.replace(from, to);
            assert_ne!(section, GOOD, "{from}");
            let err = with(&section).expect_err(to).to_string();
            assert!(err.contains("[places]"), "{err}");
        };
        bad(
            "offerers = [\"ENTE_ANTITRATTA\"]",
            "offerers = [\"QUESTURA\"]",
        );
        bad(
            "offerers = [\"ENTE_ANTITRATTA\"]",
            "offerers = [\"ENTE_ANTITRATTA\", \"ENTE_ANTITRATTA\"]",
        );
        bad(
            "vacancy_roles = [\"OPERATOR\"]",
            "vacancy_roles = [\"PLATFORM_ADMIN\"]",
        );
        bad("min_shelters = 3", "min_shelters = 1");
        bad("min_shelters = 3", "min_shelters = 51");
        bad("IMMEDIATE = 2", "IMMEDIATE = 0");
        bad("WITHIN_72_HOURS = 72", "WITHIN_72_HOURS = 721");
        // A missing or unknown urgency is the parser's error.
        assert!(with(&GOOD.replace("IMMEDIATE = 2\n", "")).is_err());
        assert!(with(&GOOD.replace("IMMEDIATE = 2", "TONIGHT = 2")).is_err());
        // Unknown keys and names are the parser's errors.
        assert!(with(&GOOD.replace("min_shelters", "min_shelter")).is_err());
        assert!(with(&GOOD.replace("NUMERO_VERDE", "HELPLINE")).is_err());
        // The section itself is required.
        assert!(with("").is_err());
    }
}
