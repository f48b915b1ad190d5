//! Table and column identifiers shared by the migrations.
//!
//! Each enum names one table: its `Table` variant is the table name (the
//! enum name in snake_case), every other variant a column (snake_case too).
//! These spellings are the contract with `raccordo-entities`.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub enum Agencies {
    Table,
    Id,
    Name,
    Kind,
    Province,
    City,
    PublicContact,
    Website,
    ReferralContact,
    Notes,
    Latitude,
    Longitude,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Networks {
    Table,
    Id,
    Name,
    Province,
    LeadId,
    Municipalities,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum NetworkMembers {
    Table,
    NetworkId,
    AgencyId,
}

#[derive(DeriveIden)]
pub enum Protocols {
    Table,
    Id,
    Title,
    SignedOn,
    PolicyVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ProtocolSignatories {
    Table,
    ProtocolId,
    AgencyId,
}

#[derive(DeriveIden)]
pub enum Collaborations {
    Table,
    Id,
    Kind,
    FromId,
    ToId,
    Since,
    Weight,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Projects {
    Table,
    Id,
    Name,
    CoordinatorId,
    StartsOn,
    EndsOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ProjectEnti {
    Table,
    ProjectId,
    AgencyId,
}

#[derive(DeriveIden)]
pub enum ProjectIndicators {
    Table,
    Id,
    ProjectId,
    Key,
    Label,
    Expected,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Shelters {
    Table,
    Id,
    OwnerId,
    Name,
    Address,
    City,
    Province,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Cases {
    Table,
    Id,
    Code,
    OwnerId,
    ProjectId,
    Phase,
    OpenedOn,
    ClosedOn,
    Version,
    Gender,
    AgeGroup,
    Nationality,
    EmersionChannel,
    EmersionProvince,
    AccompanyingMinors,
    Pregnant,
    Alias,
    LegalName,
    BirthDate,
    Phone,
    ShelterId,
    PermitAtStart,
    PermitCurrent,
    PermitExpiresOn,
    AsylumStatus,
    ComplaintFiled,
    ComplaintFiledOn,
    HealthNotes,
    PsychSupport,
    GbvIndicators,
    GbvRiskLevel,
    Outcome,
    OutcomeOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum CaseExploitations {
    Table,
    CaseId,
    Exploitation,
}

#[derive(DeriveIden)]
pub enum CasePhaseChanges {
    Table,
    Id,
    CaseId,
    At,
    UserId,
    AgencyId,
    FromPhase,
    ToPhase,
    Reason,
}

#[derive(DeriveIden)]
pub enum Activities {
    Table,
    Id,
    CaseId,
    Kind,
    Detail,
    StartedOn,
    EndedOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum CaseNotes {
    Table,
    Id,
    CaseId,
    AuthorAgencyId,
    AuthorUserId,
    WrittenAt,
    Text,
    SharedWithJointPartners,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Consents {
    Table,
    Id,
    CaseId,
    Purpose,
    RecipientId,
    GivenOn,
    ExpiresOn,
    RevokedOn,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Shares {
    Table,
    Id,
    CaseId,
    Purpose,
    RecipientId,
    ConsentId,
    Emergency,
    EmergencyReason,
    ExpiresAt,
    RevokedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Transfers {
    Table,
    Id,
    CaseId,
    FromId,
    ToId,
    ConsentId,
    Status,
    RequestedOn,
    RequestedBy,
    DecidedAt,
    DecidedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Referrals {
    Table,
    Id,
    RequestedById,
    TargetId,
    ProjectId,
    ReceivedOn,
    Province,
    Status,
    ScheduledOn,
    ConcludedOn,
    SubjectRef,
    SubjectGender,
    SubjectNationality,
    Outcome,
    ProgrammeAdhesion,
    OutcomeNote,
    CaseId,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ReferralInterviews {
    Table,
    Id,
    ReferralId,
    HeldOn,
    Notes,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ReferralCorrections {
    Table,
    Id,
    ReferralId,
    CorrectedAt,
    CorrectedBy,
    Reason,
    Fields,
}

#[derive(DeriveIden)]
pub enum AccessLog {
    Table,
    Seq,
    At,
    UserId,
    AgencyId,
    Role,
    CaseId,
    Operation,
    Relationships,
    Classes,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
pub enum StatisticsReleases {
    Table,
    Id,
    Period,
    Population,
    CutOff,
    PublishedAt,
    EpsilonPerTable,
    Method,
    PolicyVersion,
    Tables,
}
