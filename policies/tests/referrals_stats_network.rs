//! Referrals (section 6), statistics (section 7) and network data (section 8).

mod common;

use common::*;
use raccordo_policies::*;
use ReferralClass::*;

fn relation(is_target: bool, is_requester: bool) -> ReferralRelation {
    ReferralRelation {
        is_target,
        is_requester,
    }
}

/// Section 6, written out independently of the document.
fn expected_referral(v: &Viewer, r: ReferralRelation) -> ReferralClassSet {
    let Some(kind) = v.agency_kind else {
        return ReferralClassSet::empty();
    };
    if !acting(v.role) {
        return ReferralClassSet::empty();
    }
    let mut set = ReferralClassSet::empty();
    if r.is_target {
        set = set.union(ReferralClassSet::all());
    }
    if r.is_requester {
        set = set.with(ReferralCore).with(ReferralSubject);
        if !matches!(kind, AgencyKind::ForzeOrdine | AgencyKind::Procura) {
            set = set.with(ReferralOutcome);
        }
    }
    set
}

#[test]
fn referral_table_for_every_viewer_and_relation() {
    let p = policy();
    for v in all_viewers() {
        for (t, r) in [(false, false), (true, false), (false, true), (true, true)] {
            let rel = relation(t, r);
            assert_eq!(
                p.referral_classes(&v, rel),
                expected_referral(&v, rel),
                "{v:?} {rel:?}"
            );
            let acts = acting(v.role) && v.agency_kind.is_some();
            assert_eq!(p.may_work_referral(&v, rel), acts && t, "{v:?} {rel:?}");
            assert_eq!(p.may_withdraw_referral(&v, rel), acts && r, "{v:?} {rel:?}");
        }
    }
}

#[test]
fn referral_columns_spelled_out() {
    let p = policy();
    let ente = viewer(UserRole::Operator, AgencyKind::EnteAntitratta);
    let ct = viewer(UserRole::Operator, AgencyKind::CommissioneTerritoriale);
    let carabinieri = viewer(UserRole::Coordinator, AgencyKind::ForzeOrdine);
    let procura = viewer(UserRole::Operator, AgencyKind::Procura);
    let target = p.referral_classes(&ente, relation(true, false));
    assert_eq!(target.iter().collect::<Vec<_>>(), ReferralClass::ALL);
    let requester = p.referral_classes(&ct, relation(false, true));
    assert_eq!(
        requester.iter().collect::<Vec<_>>(),
        [ReferralCore, ReferralSubject, ReferralOutcome]
    );
    for le in [carabinieri, procura] {
        let got = p.referral_classes(&le, relation(false, true));
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            [ReferralCore, ReferralSubject]
        );
    }
    // Anyone else: nothing (only aggregates).
    assert!(p.referral_classes(&ct, relation(false, false)).is_empty());
    assert!(p.referral_classes(&ente, relation(false, false)).is_empty());
    // ANALYST and PLATFORM_ADMIN: nothing, even as the target.
    let analyst = viewer(UserRole::Analyst, AgencyKind::EnteAntitratta);
    assert!(p
        .referral_classes(&analyst, relation(true, true))
        .is_empty());
    let admin = Viewer {
        role: UserRole::PlatformAdmin,
        agency_kind: None,
    };
    assert!(p.referral_classes(&admin, relation(true, true)).is_empty());
}

#[test]
fn referral_requesters_and_targets() {
    use AgencyKind::*;
    let p = policy();
    for kind in AgencyKind::ALL {
        assert_eq!(
            p.may_request_referral(kind),
            kind != Coordinamento,
            "{kind}"
        );
        assert_eq!(
            p.may_receive_referral(kind),
            kind == EnteAntitratta,
            "{kind}"
        );
    }
}

#[test]
fn statistics_table() {
    use AgencyKind::*;
    let p = policy();
    let exact_mine = Ok(StatsGrant {
        scope: StatsScope::Mine,
        exact: true,
    });
    let suppressed_network = Ok(StatsGrant {
        scope: StatsScope::Network,
        exact: false,
    });
    for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
        for kind in AgencyKind::ALL {
            let v = viewer(role, kind);
            let own = matches!(kind, EnteAntitratta | Coordinamento);
            // MINE
            let mine = p.statistics(Some(&v), Some(StatsScope::Mine));
            assert_eq!(
                mine,
                if own { exact_mine } else { Err(()) },
                "{role} {kind} MINE"
            );
            // NETWORK: suppressed for everyone
            assert_eq!(
                p.statistics(Some(&v), Some(StatsScope::Network)),
                suppressed_network,
                "{role} {kind}"
            );
            // default scope
            let default = p.statistics(Some(&v), None);
            assert_eq!(
                default,
                if own { exact_mine } else { suppressed_network },
                "{role} {kind} default"
            );
        }
    }
    // PLATFORM_ADMIN: forbidden whatever the scope, with or without an agency.
    let mut admins = vec![Viewer {
        role: UserRole::PlatformAdmin,
        agency_kind: None,
    }];
    admins.extend(
        AgencyKind::ALL
            .into_iter()
            .map(|k| viewer(UserRole::PlatformAdmin, k)),
    );
    for admin in admins {
        for scope in [None, Some(StatsScope::Mine), Some(StatsScope::Network)] {
            assert_eq!(
                p.statistics(Some(&admin), scope),
                Err(()),
                "{admin:?} {scope:?}"
            );
        }
    }
    // Anonymous: forbidden whatever the scope.
    for scope in [None, Some(StatsScope::Mine), Some(StatsScope::Network)] {
        assert_eq!(p.statistics(None, scope), Err(()), "anonymous {scope:?}");
    }
    // A non-admin without an agency has nothing to be "mine" and no row: forbidden.
    let orphan = Viewer {
        role: UserRole::Operator,
        agency_kind: None,
    };
    assert_eq!(p.statistics(Some(&orphan), None), Err(()));
}

#[test]
fn analyst_gets_statistics_like_its_agency() {
    let p = policy();
    for kind in AgencyKind::ALL {
        for scope in [None, Some(StatsScope::Mine), Some(StatsScope::Network)] {
            let analyst = p.statistics(Some(&viewer(UserRole::Analyst, kind)), scope);
            let operator = p.statistics(Some(&viewer(UserRole::Operator, kind)), scope);
            let coordinator = p.statistics(Some(&viewer(UserRole::Coordinator, kind)), scope);
            assert_eq!(analyst, operator, "{kind} {scope:?}");
            assert_eq!(analyst, coordinator, "{kind} {scope:?}");
        }
    }
}

#[test]
fn network_levels() {
    use NetworkClass::*;
    let p = policy();
    // Anonymous: public only; is_owner cannot help someone with no agency.
    for owner in [false, true] {
        assert!(p.may_read_network(None, Public, owner));
        assert!(!p.may_read_network(None, Partner, owner));
        assert!(!p.may_read_network(None, OwnerOnly, owner));
    }
    for v in all_viewers() {
        assert!(p.may_read_network(Some(&v), Public, false), "{v:?}");
        assert!(p.may_read_network(Some(&v), Partner, false), "{v:?}");
        assert!(!p.may_read_network(Some(&v), OwnerOnly, false), "{v:?}");
        // Only an agency can own a shelter, and only its roles that get rows read it: never an
        // ANALYST, never a PLATFORM_ADMIN, whatever agency it names.
        assert_eq!(
            p.may_read_network(Some(&v), OwnerOnly, true),
            v.agency_kind.is_some() && matches!(v.role, UserRole::Operator | UserRole::Coordinator),
            "{v:?}"
        );
    }
}
