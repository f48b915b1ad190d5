//! The contract's enums. Domain enums are stored as their contract spelling; the access
//! vocabulary (`AgencyKind`, `UserRole`, ...) is the policy crate's own, exposed as is.

use async_graphql::Enum;

/// Defines a domain enum whose GraphQL name and stored text are the contract spelling.
macro_rules! domain_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* #[graphql(name = $text)] $variant,)+
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The contract spelling, also what the database stores.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }
            /// The value for a contract spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

/// The kind of a partner agency; decides what the protocol lets it see.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "AgencyKind", remote = "raccordo_policies::AgencyKind")]
pub enum AgencyKind {
    /// Anti-trafficking implementing body (ente antitratta / ente attuatore); holds the cases.
    EnteAntitratta,
    /// Anti-violence centre (CAV) and its shelters.
    CentroAntiviolenza,
    /// Prefecture; convenes the protocols.
    Prefettura,
    /// Police headquarters; its immigration office issues residence permits.
    Questura,
    /// Asylum commission; sends referral requests.
    CommissioneTerritoriale,
    /// Law enforcement: Carabinieri, Polizia, Guardia di Finanza, Polizia Locale, labour inspectorate.
    ForzeOrdine,
    /// Public prosecutors, anti-mafia directorate.
    Procura,
    /// Social and health services, reception managers, adult schools.
    ServiziTerritoriali,
    /// The national anti-trafficking helpline's central station.
    NumeroVerde,
    /// A project's coordination unit, the Region, the national Equal Opportunities Department.
    Coordinamento,
}

/// A user's role inside its agency.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "UserRole", remote = "raccordo_policies::UserRole")]
pub enum UserRole {
    /// Works cases day to day.
    Operator,
    /// Leads the agency's work: requests and accepts transfers, reads access logs, reviews emergencies.
    Coordinator,
    /// Reads aggregates and network data only, never rows.
    Analyst,
    /// Operates the hub: agencies, networks, protocols; reads no case data.
    PlatformAdmin,
}

/// The class of a case field; the protocol decides per class who reads it.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "DataClass", remote = "raccordo_policies::DataClass")]
pub enum DataClass {
    /// Identifiers, owner, project, phase, dates, version.
    Base,
    /// Gender, age group, nationality, exploitation, emersion.
    Profile,
    /// Alias, legal name, birth date, phone.
    Identity,
    /// The protected shelter.
    Location,
    /// Residence permits and asylum status.
    Legal,
    /// Complaint against the exploiters.
    Judicial,
    /// Health and psychological support.
    Health,
    /// Gender-based violence indicators and risk.
    Gbv,
    /// Activities, outcome, phase history.
    Pathway,
    /// The case diary.
    Notes,
}

/// How the viewer's agency relates to a case.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "Relationship", remote = "raccordo_policies::Relationship")]
pub enum Relationship {
    /// The viewer's agency holds the case.
    Owner,
    /// An active share for joint management.
    Joint,
    /// An active share for the residence-permit procedure.
    Permit,
    /// A pending transfer request to the viewer's agency.
    Transfer,
    /// An active share for a referral to a service.
    Service,
    /// An active share for judicial cooperation.
    Judicial,
}

/// Why a case is shared; each purpose goes only to certain kinds of agency.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SharePurpose", remote = "raccordo_policies::SharePurpose")]
pub enum SharePurpose {
    /// Joint management with another ente or a CAV.
    JointManagement,
    /// The residence-permit procedure with the questura.
    PermitProcedure,
    /// Transfer of the case to another ente (through a transfer request).
    Transfer,
    /// Referral to social or health services.
    ServiceReferral,
    /// Cooperation with law enforcement and prosecutors.
    JudicialCooperation,
}

domain_enum! {
    /// Gender of the person.
    Gender {
        /// Female.
        Female = "FEMALE",
        /// Male.
        Male = "MALE",
        /// Transgender person.
        Transgender = "TRANSGENDER",
    }
}

domain_enum! {
    /// Adult or minor (MSNA: unaccompanied foreign minor).
    AgeGroup {
        /// 18 or older.
        Adult = "ADULT",
        /// Under 18.
        Minor = "MINOR",
    }
}

domain_enum! {
    /// Phase of the assistance pathway.
    CasePhase {
        /// Emergency shelter (pronto intervento).
        ProntoIntervento = "PRONTO_INTERVENTO",
        /// First reception (prima accoglienza).
        PrimaAccoglienza = "PRIMA_ACCOGLIENZA",
        /// Semi-autonomous housing (seconda accoglienza).
        SecondaAccoglienza = "SECONDA_ACCOGLIENZA",
        /// Support while living independently (presa in carico territoriale).
        PresaInCaricoTerritoriale = "PRESA_IN_CARICO_TERRITORIALE",
        /// The pathway has ended with an outcome.
        Closed = "CLOSED",
    }
}

domain_enum! {
    /// Type of exploitation.
    Exploitation {
        /// Sexual exploitation on the street.
        SexualStreet = "SEXUAL_STREET",
        /// Sexual exploitation indoors.
        SexualIndoor = "SEXUAL_INDOOR",
        /// Labour exploitation.
        Labour = "LABOUR",
        /// Forced begging.
        Begging = "BEGGING",
        /// Forced illegal activities.
        IllegalEconomies = "ILLEGAL_ECONOMIES",
        /// Forced marriage.
        ForcedMarriage = "FORCED_MARRIAGE",
        /// Domestic servitude.
        DomesticServitude = "DOMESTIC_SERVITUDE",
        /// Trafficking without a more specific type.
        Trafficking = "TRAFFICKING",
    }
}

domain_enum! {
    /// How the person came to light (canale di emersione).
    EmersionChannel {
        /// Assessment interviews (segretariato sociale).
        AssessmentService = "ASSESSMENT_SERVICE",
        /// The person came forward.
        SelfReferral = "SELF_REFERRAL",
        /// Through an acquaintance.
        Acquaintance = "ACQUAINTANCE",
        /// The national helpline.
        NumeroVerde = "NUMERO_VERDE",
        /// The International Organization for Migration.
        Iom = "IOM",
        /// Another anti-trafficking body.
        OtherAntiTraffickingBody = "OTHER_ANTI_TRAFFICKING_BODY",
        /// An outreach unit of the project.
        OutreachUnit = "OUTREACH_UNIT",
        /// Law enforcement.
        LawEnforcement = "LAW_ENFORCEMENT",
        /// Caritas.
        Caritas = "CARITAS",
        /// An asylum commission.
        CommissioneTerritoriale = "COMMISSIONE_TERRITORIALE",
        /// Third-sector organisations.
        ThirdSector = "THIRD_SECTOR",
        /// A legal advisor.
        LegalAdvisor = "LEGAL_ADVISOR",
        /// A public body.
        PublicBody = "PUBLIC_BODY",
        /// An outreach unit of another area.
        OutreachOtherArea = "OUTREACH_OTHER_AREA",
    }
}

domain_enum! {
    /// Residence permit (titolo di soggiorno).
    PermitType {
        /// No permit.
        None = "NONE",
        /// International protection requested.
        InternationalProtectionRequest = "INTERNATIONAL_PROTECTION_REQUEST",
        /// Appeal (ex art. 35).
        AppealArt35 = "APPEAL_ART35",
        /// The anti-trafficking permit (art. 18 D.Lgs. 286/98).
        Art18 = "ART18",
        /// Refugee status.
        RefugeeStatus = "REFUGEE_STATUS",
        /// Special protection.
        SpecialProtection = "SPECIAL_PROTECTION",
        /// Employment.
        SubordinateWork = "SUBORDINATE_WORK",
        /// Long-term residence.
        LongTermResidence = "LONG_TERM_RESIDENCE",
        /// Special cases.
        SpecialCases = "SPECIAL_CASES",
        /// The 2020 regularisation.
        Emersione2020 = "EMERSIONE_2020",
        /// A repeated protection request.
        ReiteratedProtectionRequest = "REITERATED_PROTECTION_REQUEST",
    }
}

domain_enum! {
    /// How a pathway ended.
    CaseOutcome {
        /// The person lives autonomously.
        Autonomy = "AUTONOMY",
        /// The person left the programme.
        NonAdherence = "NON_ADHERENCE",
        /// Sent to the SAI integration system.
        SentToSai = "SENT_TO_SAI",
        /// Taken over by local services.
        TakenOverByLocalServices = "TAKEN_OVER_BY_LOCAL_SERVICES",
        /// Sent to another anti-trafficking project.
        SentToOtherAntiTraffickingProject = "SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT",
        /// Assisted voluntary return.
        AssistedVoluntaryReturn = "ASSISTED_VOLUNTARY_RETURN",
    }
}

domain_enum! {
    /// Where a referral stands.
    ReferralStatus {
        /// Received by the target ente.
        Received = "RECEIVED",
        /// An interview is scheduled.
        Scheduled = "SCHEDULED",
        /// Interviews are under way.
        InProgress = "IN_PROGRESS",
        /// Concluded with an outcome.
        Concluded = "CONCLUDED",
        /// The person could not be reached.
        Unreachable = "UNREACHABLE",
        /// Withdrawn by the requester.
        Withdrawn = "WITHDRAWN",
    }
}

domain_enum! {
    /// The assessment's result.
    ReferralOutcome {
        /// Identified as a victim of trafficking.
        IdentifiedTrafficking = "IDENTIFIED_TRAFFICKING",
        /// Identified as a victim of sexual exploitation.
        IdentifiedSexualExploitation = "IDENTIFIED_SEXUAL_EXPLOITATION",
        /// Identified as a victim of labour exploitation.
        IdentifiedLabourExploitation = "IDENTIFIED_LABOUR_EXPLOITATION",
        /// No indicators found.
        NotIdentified = "NOT_IDENTIFIED",
    }
}

domain_enum! {
    /// Where a transfer request (MIR) stands.
    TransferStatus {
        /// Waiting for the receiving ente.
        Requested = "REQUESTED",
        /// Accepted: the case moved.
        Accepted = "ACCEPTED",
        /// Rejected by the receiving ente.
        Rejected = "REJECTED",
        /// Cancelled by the requester.
        Cancelled = "CANCELLED",
    }
}

domain_enum! {
    /// A dimension to group case statistics by.
    CaseDimension {
        /// Province of emersion.
        Province = "PROVINCE",
        /// Nationality.
        Nationality = "NATIONALITY",
        /// Gender.
        Gender = "GENDER",
        /// Exploitation type (a case with several types counts in each).
        Exploitation = "EXPLOITATION",
        /// Permit at the start.
        PermitAtStart = "PERMIT_AT_START",
        /// Current permit.
        PermitCurrent = "PERMIT_CURRENT",
        /// Emersion channel.
        EmersionChannel = "EMERSION_CHANNEL",
        /// Phase.
        Phase = "PHASE",
        /// Outcome of closed cases.
        Outcome = "OUTCOME",
        /// Owning agency.
        Owner = "OWNER",
    }
}

domain_enum! {
    /// A dimension to group referral statistics by.
    ReferralDimension {
        /// Province.
        Province = "PROVINCE",
        /// Target ente.
        Target = "TARGET",
        /// Kind of the requesting agency.
        RequesterKind = "REQUESTER_KIND",
        /// Status.
        Status = "STATUS",
        /// Outcome.
        Outcome = "OUTCOME",
        /// Nationality of the person.
        Nationality = "NATIONALITY",
    }
}

/// Which rows a statistics query counts.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsScope {
    /// The viewer's own cases and referrals (or its projects'): exact counts.
    Mine,
    /// The whole network: small counts suppressed.
    Network,
}
