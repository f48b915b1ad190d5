//! Every entity under its table-singular name, e.g. `Agency`, `Case`.

pub use super::access_log::Entity as AccessLog;
pub use super::activity::Entity as Activity;
pub use super::agency::Entity as Agency;
pub use super::case::Entity as Case;
pub use super::case_exploitation::Entity as CaseExploitation;
pub use super::case_note::Entity as CaseNote;
pub use super::case_phase_change::Entity as CasePhaseChange;
pub use super::collaboration::Entity as Collaboration;
pub use super::consent::Entity as Consent;
pub use super::network::Entity as Network;
pub use super::network_member::Entity as NetworkMember;
pub use super::project::Entity as Project;
pub use super::project_ente::Entity as ProjectEnte;
pub use super::project_indicator::Entity as ProjectIndicator;
pub use super::protocol::Entity as Protocol;
pub use super::protocol_signatory::Entity as ProtocolSignatory;
pub use super::referral::Entity as Referral;
pub use super::referral_correction::Entity as ReferralCorrection;
pub use super::referral_interview::Entity as ReferralInterview;
pub use super::share::Entity as Share;
pub use super::shelter::Entity as Shelter;
pub use super::statistics_release::Entity as StatisticsRelease;
pub use super::transfer::Entity as Transfer;
