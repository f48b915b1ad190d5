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
    let release_network = Ok(StatsGrant {
        scope: StatsScope::Network,
        exact: false,
    });
    for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
        for kind in AgencyKind::ALL {
            let v = viewer(role, kind);
            let own = matches!(kind, EnteAntitratta | Coordinamento);
            // MINE: exact for every kind over the rows it answers for (the cases it holds, the
            // projects it coordinates); the api refuses an agency that answers for none.
            let mine = p.statistics(Some(&v), Some(StatsScope::Mine));
            assert_eq!(mine, exact_mine, "{role} {kind} MINE");
            // NETWORK: from releases for everyone
            assert_eq!(
                p.statistics(Some(&v), Some(StatsScope::Network)),
                release_network,
                "{role} {kind}"
            );
            // default scope
            let default = p.statistics(Some(&v), None);
            assert_eq!(
                default,
                if own { exact_mine } else { release_network },
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

/// What an agency of each kind could ever read of a referral (the schema views ask this): the
/// union over the relations its kind can have. The target ente reads its internal notes; a
/// requester reads the outcome unless it is law enforcement; a kind that neither requests nor
/// receives referrals reads nothing of them.
#[test]
fn referral_classes_a_kind_can_ever_read() {
    use AgencyKind::*;
    let p = policy();
    let can = |kind: AgencyKind, class: ReferralClass| {
        p.may_ever_read(
            Some(&viewer(UserRole::Operator, kind)),
            FieldClass::Referral(class),
        )
    };
    for class in [
        ReferralCore,
        ReferralSubject,
        ReferralOutcome,
        ReferralInternal,
    ] {
        assert!(
            can(EnteAntitratta, class),
            "the target ente reads {class:?}"
        );
        assert!(
            !can(Coordinamento, class),
            "no referral relation: {class:?}"
        );
    }
    assert!(can(Questura, ReferralCore));
    assert!(can(Questura, ReferralOutcome));
    assert!(
        !can(Questura, ReferralInternal),
        "a requester reads no internal notes"
    );
    assert!(can(ForzeOrdine, ReferralSubject));
    assert!(
        !can(ForzeOrdine, ReferralOutcome),
        "law enforcement learns no outcome"
    );
    assert!(!can(ForzeOrdine, ReferralInternal));
}

/// The `OTHER` column applies exactly to a viewer that is neither the target nor the requester:
/// with a document that gives it something, the bystander reads it, and a requester or the
/// target gets nothing more from it than its own column gives.
#[test]
fn the_other_column_is_for_bystanders_only() {
    let (doc, _) = mutate(
        "OTHER = []",
        "OTHER = [\"REFERRAL_CORE\", \"REFERRAL_OUTCOME\"]",
    );
    let p = Policy::from_toml(&doc).expect("the document loads");
    let police = viewer(UserRole::Operator, AgencyKind::ForzeOrdine);
    let bystander = p.referral_classes(&police, relation(false, false));
    assert!(bystander.contains(ReferralCore) && bystander.contains(ReferralOutcome));
    // As the requester, law enforcement reads its own column only: still no outcome.
    let requester = p.referral_classes(&police, relation(false, true));
    assert!(requester.contains(ReferralSubject));
    assert!(!requester.contains(ReferralOutcome), "{requester:?}");
    // The target ente reads its column (everything), never less.
    let ente = viewer(UserRole::Operator, AgencyKind::EnteAntitratta);
    assert_eq!(
        p.referral_classes(&ente, relation(true, false)),
        ReferralClassSet::all()
    );
    assert_eq!(
        p.referral_classes(&ente, relation(true, true)),
        ReferralClassSet::all()
    );
}

/// `updateAgency`: the platform admin changes every entry; an agency's coordinators change only
/// their own agency's public fields; every other role, and every role of another agency, nothing.
#[test]
fn who_keeps_the_registry() {
    let p = policy();
    for kind in AgencyKind::ALL {
        for role in UserRole::ALL {
            let v = Viewer {
                role,
                agency_kind: Some(kind),
            };
            for its_own in [false, true] {
                let expected = match role {
                    UserRole::PlatformAdmin => AgencyEdit::Everything,
                    UserRole::Coordinator if its_own => AgencyEdit::PublicFields,
                    _ => AgencyEdit::Nothing,
                };
                assert_eq!(
                    p.agency_edit(&v, its_own),
                    expected,
                    "{role:?} of {kind:?}, own: {its_own}"
                );
            }
        }
    }
    let admin = Viewer {
        role: UserRole::PlatformAdmin,
        agency_kind: None,
    };
    assert_eq!(p.agency_edit(&admin, false), AgencyEdit::Everything);
}
