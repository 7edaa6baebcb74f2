//! An identity pool's role mappings (rules or token claims), proto ↔ domain.

use crate::AppError;
use signet_core::{AmbiguousRoleResolution, MappingRule, MatchType, RoleMapping, RoleMappingKind};
use signet_proto::v1 as pb;

pub(super) fn mapping_in(provider: &str, m: pb::RoleMappingType) -> Result<RoleMapping, AppError> {
    let kind = match m.r#type.as_str() {
        "Token" => RoleMappingKind::Token,
        "Rules" => RoleMappingKind::Rules,
        other => {
            return Err(AppError::invalid(format!(
                "role mapping of {provider}: type must be Token or Rules, not {other:?}"
            )))
        }
    };
    let ambiguous = match m.ambiguous_role_resolution.as_str() {
        "AuthenticatedRole" => AmbiguousRoleResolution::AuthenticatedRole,
        "Deny" => AmbiguousRoleResolution::Deny,
        other => {
            return Err(AppError::invalid(format!(
                "role mapping of {provider}: ambiguous_role_resolution must be AuthenticatedRole or Deny, not {other:?}"
            )))
        }
    };
    let rules = m
        .rules
        .into_iter()
        .map(|r| {
            let match_type = match r.match_type.as_str() {
                "Equals" => MatchType::Equals,
                "NotEqual" => MatchType::NotEqual,
                "StartsWith" => MatchType::StartsWith,
                "Contains" => MatchType::Contains,
                other => {
                    return Err(AppError::invalid(format!(
                        "match_type must be Equals, NotEqual, StartsWith or Contains, not {other:?}"
                    )))
                }
            };
            Ok(MappingRule {
                claim: r.claim,
                match_type,
                value: r.value,
                role_arn: r.role_arn,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(RoleMapping {
        kind,
        ambiguous,
        rules,
    })
}

pub(super) fn mapping_out(m: &RoleMapping) -> pb::RoleMappingType {
    pb::RoleMappingType {
        r#type: format!("{:?}", m.kind),
        ambiguous_role_resolution: format!("{:?}", m.ambiguous),
        rules: m
            .rules
            .iter()
            .map(|r| pb::MappingRuleType {
                claim: r.claim.clone(),
                match_type: format!("{:?}", r.match_type),
                value: r.value.clone(),
                role_arn: r.role_arn.clone(),
            })
            .collect(),
    }
}
