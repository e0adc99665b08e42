"""The login emulator: OIDC discovery, instance discovery and client-credentials tokens (msal)."""

from __future__ import annotations

import time

import msal
import pytest
from emulator_fixtures import (
    CLIENT_ID,
    GRAPH_SCOPE,
    SECRET,
    reset_tenant,
    token_form,
    verified_client,
)
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack


@pytest.fixture(scope="module")
def http(stack):
    with verified_client(stack) as client:
        yield client


@pytest.fixture
def tenant(control):
    reset_tenant(control, "login-t1")
    return "login-t1"


@pytest.fixture
def plain_env(monkeypatch):
    # requests (under msal) lets REQUESTS_CA_BUNDLE override a session's `verify`.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def _msal_app(stack, tenant, secret):
    return msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=secret,
        authority=f"{stack.login_url}/{tenant}",
        instance_discovery=False,
        verify=stack.ca_file,
    )


def test_openid_configuration_is_shaped_like_microsofts(http, stack, tenant):
    config = http.get(f"{stack.login_url}/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"{stack.login_url}/{tenant}/oauth2/v2.0/token"
    assert config["issuer"] == f"{stack.login_url}/{tenant}/v2.0"
    assert config["authorization_endpoint"].endswith(f"/{tenant}/oauth2/v2.0/authorize")
    assert config["jwks_uri"].startswith(stack.login_url)
    assert "client_secret_post" in config["token_endpoint_auth_methods_supported"]


def test_discovery_by_domain_names_the_tenant_id(http, stack, tenant):
    config = http.get(f"{stack.login_url}/contoso.com/v2.0/.well-known/openid-configuration")
    assert config.json()["token_endpoint"] == f"{stack.login_url}/{tenant}/oauth2/v2.0/token"


def test_discovery_of_unknown_tenant_is_400(http, stack):
    response = http.get(f"{stack.login_url}/nope/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_instance_discovery_points_back_at_the_emulator(http, stack, tenant):
    response = http.get(
        f"{stack.login_url}/common/discovery/instance",
        params={
            "api-version": "1.1",
            "authorization_endpoint": f"{stack.login_url}/{tenant}/oauth2/v2.0/authorize",
        },
    )
    body = response.json()
    assert body["tenant_discovery_endpoint"] == (
        f"{stack.login_url}/{tenant}/v2.0/.well-known/openid-configuration"
    )
    assert body["metadata"][0]["aliases"]


def test_msal_acquires_a_token(stack, tenant, plain_env):
    result = _msal_app(stack, tenant, SECRET).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result.get("token_type") == "Bearer", result
    assert result["access_token"].count(".") == 2
    assert result["expires_in"] == 3600


def test_msal_with_wrong_secret_gets_invalid_client(stack, tenant, plain_env):
    result = _msal_app(stack, tenant, "wrong").acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided")
    assert result["error_codes"] == [7000215]


def _token_request(http, stack, tenant, **overrides):
    return http.post(f"{stack.login_url}/{tenant}/oauth2/v2.0/token", data=token_form(**overrides))


def test_wrong_secret_is_401_with_entra_error_fields(http, stack, tenant):
    response = _token_request(http, stack, tenant, client_secret="wrong")
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)


def test_unknown_tenant_is_400_invalid_request(http, stack):
    response = _token_request(http, stack, "no-such-tenant")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("AADSTS90002")


def test_unknown_client_id_is_unauthorized_client(http, stack, tenant):
    response = _token_request(http, stack, tenant, client_id="other-app")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [700016]


def test_scope_must_be_graph_default(http, stack, tenant):
    assert _token_request(http, stack, tenant, scope="User.Read").json()["error"] == "invalid_scope"
    other = _token_request(http, stack, tenant, scope="https://vault.azure.net/.default")
    assert other.json()["error"] == "invalid_resource"


def test_secret_in_basic_auth_header_works(http, stack, tenant):
    response = http.post(
        f"{stack.login_url}/{tenant}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
        auth=(CLIENT_ID, SECRET),
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_token_expires_after_the_configured_lifetime(http, stack, tenant):
    http.post(f"{stack.control_url}/graph/config", json={"token_lifetime_s": 1})
    try:
        body = _token_request(http, stack, tenant).json()
    finally:
        http.post(f"{stack.control_url}/graph/config", json={"token_lifetime_s": 3600})
    assert body["expires_in"] == body["ext_expires_in"] == 1
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert http.get(f"{stack.graph_url}/users", headers=headers).status_code == 200
    time.sleep(1.1)
    expired = http.get(f"{stack.graph_url}/users", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "expired" in expired.json()["error"]["message"]


def test_a_fault_the_control_surface_cannot_make_is_refused(http, stack, tenant):
    faults = f"{stack.control_url}/login/{tenant}/faults"
    answer = http.post(faults, json={"status": 200, "times": 1})
    assert answer.status_code == 400 and "is no error" in answer.json()["error"]
    answer = http.post(faults, json={"status": 503, "times": 0})
    assert answer.status_code == 400
