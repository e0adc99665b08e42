"""Property names of Graph users and groups: the full known set and the default sets."""

from __future__ import annotations

USER_DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)

# Stored on every user record (a scenario's add_user can set the writable ones).
USER_STORED_PROPERTIES = (
    "id",
    "userPrincipalName",
    "mail",
    "otherMails",
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "mobilePhone",
    "businessPhones",
    "officeLocation",
    "preferredLanguage",
    "accountEnabled",
    "userType",
    "onPremisesSyncEnabled",
    "createdDateTime",
    "mailNickname",
    "proxyAddresses",
    "employeeId",
    "companyName",
    "usageLocation",
    "creationType",
    "externalUserState",
    "deletedDateTime",
)

# Real Graph properties the emulator does not model: selectable, always null.
USER_NULL_PROPERTIES = (
    "city",
    "country",
    "state",
    "streetAddress",
    "postalCode",
    "faxNumber",
    "employeeType",
    "employeeHireDate",
    "onPremisesImmutableId",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesSamAccountName",
    "onPremisesUserPrincipalName",
    "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier",
    "lastPasswordChangeDateTime",
    "passwordPolicies",
    "ageGroup",
    "consentProvidedForMinor",
    "legalAgeGroupClassification",
    "preferredDataLocation",
    "showInAddressList",
    "signInSessionsValidFromDateTime",
    "externalUserStateChangeDateTime",
    "securityIdentifier",
)

# Stored properties that Graph sets itself: a POST or PATCH may not name them.
_USER_SERVER_SET = frozenset(
    {
        "id",
        "createdDateTime",
        "proxyAddresses",
        "creationType",
        "externalUserState",
        "deletedDateTime",
    }
)
USER_WRITABLE_PROPERTIES = (
    *(name for name in USER_STORED_PROPERTIES if name not in _USER_SERVER_SET),
    "city",
    "country",
    "passwordProfile",
    "passwordPolicies",
)

# Attributes owned by on-premises AD for synced users; Graph refuses to PATCH them. The rest of
# the writable ones stay cloud-managed even for a synced user.
ON_PREMISES_MASTERED = frozenset(USER_WRITABLE_PROPERTIES) - {
    "preferredLanguage",
    "userType",
    "onPremisesSyncEnabled",
    "usageLocation",
    "passwordProfile",
    "passwordPolicies",
}

GROUP_DEFAULT_PROPERTIES = (
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
    "onPremisesProvisioningErrors",
)

USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"


def _by_lower_name(*name_lists: tuple[str, ...]) -> dict[str, str]:
    return {name.lower(): name for names in name_lists for name in names}


# $select is case-insensitive in Graph: lower-cased name -> canonical name.
USER_SELECTABLE = _by_lower_name(USER_STORED_PROPERTIES, USER_NULL_PROPERTIES)
GROUP_SELECTABLE = _by_lower_name(GROUP_DEFAULT_PROPERTIES, ("members",))
DIRECTORY_OBJECT_SELECTABLE = {**GROUP_SELECTABLE, **USER_SELECTABLE}
