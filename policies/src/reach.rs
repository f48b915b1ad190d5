//! What a viewer could ever read: the union over every relationship its agency's kind can have.
//!
//! Used to decide which parts of the schema a caller may learn about at all. A field whose class
//! no relationship of the caller's kind ever shows is, for that caller, a field that does not
//! exist: errors must not reveal it (a QUESTURA token must not learn that the hub holds a
//! shelter address field, let alone where).

use crate::document::StatsAccess;
use crate::policy::bit;
use crate::{
    FieldClass, Policy, ReferralRelation, Relationship, RelationshipSet, SharePurpose, Viewer,
};

impl Policy {
    /// Whether a viewer could read a field of this class on some record, under some relationship
    /// its agency's kind can have. `viewer` None is an anonymous caller.
    pub fn may_ever_read(&self, viewer: Option<&Viewer>, class: FieldClass) -> bool {
        match (viewer, class) {
            (None, FieldClass::Network(c)) => self.may_read_network(None, c, false),
            // Plumbing (entry points, pages, statistics cells) matters to an anonymous caller
            // only when the protocol gives it statistics.
            (None, FieldClass::Open) => self.stats_anonymous != StatsAccess::Forbidden,
            (None, _) => false,
            (Some(_), FieldClass::Open) => true,
            (Some(v), FieldClass::Network(c)) => self.may_read_network(Some(v), c, true),
            (Some(v), FieldClass::Case(c)) => self
                .reachable_relationships(v)
                .iter()
                .any(|rel| self.readable_classes(v, single(rel)).contains(c)),
            (Some(v), FieldClass::Referral(c)) => self
                .reachable_referral_relations(v)
                .any(|rel| self.referral_classes(v, rel).contains(c)),
        }
    }

    /// The relationships to a case an agency of the viewer's kind can ever have.
    fn reachable_relationships(&self, viewer: &Viewer) -> RelationshipSet {
        let mut set = RelationshipSet::empty();
        let Some(kind) = viewer.agency_kind else {
            return set;
        };
        if self.case_holders & bit(kind) != 0 {
            set.insert(Relationship::Owner);
        }
        for purpose in SharePurpose::ALL {
            if self.purpose_allows_recipient(purpose, kind) {
                set.insert(self.relationship_for(purpose));
            }
        }
        set
    }

    /// The relations to a referral an agency of the viewer's kind can ever have.
    fn reachable_referral_relations(
        &self,
        viewer: &Viewer,
    ) -> impl Iterator<Item = ReferralRelation> {
        let kind = viewer.agency_kind;
        let target = kind.is_some_and(|k| self.may_receive_referral(k));
        let requester = kind.is_some_and(|k| self.may_request_referral(k));
        [(false, false), (true, false), (false, true), (true, true)]
            .into_iter()
            .filter(move |(t, r)| (!t || target) && (!r || requester))
            .map(|(is_target, is_requester)| ReferralRelation {
                is_target,
                is_requester,
            })
    }
}

fn single(rel: Relationship) -> RelationshipSet {
    let mut set = RelationshipSet::empty();
    set.insert(rel);
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgencyKind, DataClass, NetworkClass, ReferralClass, UserRole};

    fn policy() -> Policy {
        Policy::default_protocol().expect("the default protocol loads")
    }

    fn viewer(kind: AgencyKind, role: UserRole) -> Viewer {
        Viewer {
            role,
            agency_kind: Some(kind),
        }
    }

    #[test]
    fn anonymous_callers_reach_only_public_network_data() {
        let p = policy();
        assert!(p.may_ever_read(None, FieldClass::Network(NetworkClass::Public)));
        assert!(!p.may_ever_read(None, FieldClass::Network(NetworkClass::Partner)));
        assert!(!p.may_ever_read(None, FieldClass::Open));
        for c in DataClass::ALL {
            assert!(!p.may_ever_read(None, FieldClass::Case(c)));
        }
    }

    #[test]
    fn a_questura_never_reaches_health_or_location() {
        let p = policy();
        let q = viewer(AgencyKind::Questura, UserRole::Operator);
        for c in [DataClass::Base, DataClass::Identity, DataClass::Legal] {
            assert!(p.may_ever_read(Some(&q), FieldClass::Case(c)), "{c:?}");
        }
        for c in [
            DataClass::Location,
            DataClass::Health,
            DataClass::Gbv,
            DataClass::Notes,
        ] {
            assert!(!p.may_ever_read(Some(&q), FieldClass::Case(c)), "{c:?}");
        }
    }

    #[test]
    fn analysts_and_admins_reach_no_rows() {
        let p = policy();
        let analyst = viewer(AgencyKind::EnteAntitratta, UserRole::Analyst);
        let admin = Viewer {
            role: UserRole::PlatformAdmin,
            agency_kind: None,
        };
        for v in [analyst, admin] {
            for c in DataClass::ALL {
                assert!(!p.may_ever_read(Some(&v), FieldClass::Case(c)));
            }
            for c in ReferralClass::ALL {
                assert!(!p.may_ever_read(Some(&v), FieldClass::Referral(c)));
            }
            assert!(p.may_ever_read(Some(&v), FieldClass::Open));
        }
    }

    #[test]
    fn the_holder_of_cases_reaches_every_case_class() {
        let p = policy();
        let ente = viewer(AgencyKind::EnteAntitratta, UserRole::Operator);
        for c in DataClass::ALL {
            assert!(p.may_ever_read(Some(&ente), FieldClass::Case(c)), "{c:?}");
        }
    }

    /// Reaching is exactly "some relationship the kind can have shows the class".
    #[test]
    fn reach_agrees_with_readable_classes_for_every_kind_and_role() {
        let p = policy();
        for kind in AgencyKind::ALL {
            for role in UserRole::ALL {
                let v = viewer(kind, role);
                for c in DataClass::ALL {
                    let some_rel = Relationship::ALL.iter().any(|&rel| {
                        let reachable = (rel == Relationship::Owner
                            && p.may_create_case(&Viewer {
                                role: UserRole::Coordinator,
                                agency_kind: Some(kind),
                            }))
                            || SharePurpose::ALL.iter().any(|&pp| {
                                p.purpose_allows_recipient(pp, kind)
                                    && p.relationship_for(pp) == rel
                            });
                        reachable && p.readable_classes(&v, single(rel)).contains(c)
                    });
                    assert_eq!(
                        p.may_ever_read(Some(&v), FieldClass::Case(c)),
                        some_rel,
                        "{kind:?} {role:?} {c:?}"
                    );
                }
            }
        }
    }
}
