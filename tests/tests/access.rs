use crate::hub_test;
