"""The OpenAPI document: served, every path real, the error codes those the API answers."""

import pytest
from django.urls import Resolver404, resolve

from payments.exceptions import API_ERRORS
from payments.openapi import openapi_document


def test_openapi_document_is_served_and_every_path_exists(client):
    served = client.get("/api/v1/openapi.json").json()
    assert served["openapi"].startswith("3.")
    assert served["paths"] == openapi_document()["paths"]
    for path, operations in served["paths"].items():
        concrete = "/api/v1" + path.replace("{number}", "AbCdEfGh12345678")
        try:
            match = resolve(concrete)
        except Resolver404:
            pytest.fail(f"{path} in the OpenAPI document has no view")
        assert match.view_name.startswith("payments:api_")
        assert match.url_name != "api_not_found"
        for method in operations:
            response = getattr(client, method)(concrete)
            assert response.status_code == 401  # exists, allows the method, needs a key
    listing = served["paths"]["/payments"]["get"]
    assert [p["name"] for p in listing["parameters"]] == [
        "from",
        "to",
        "limit",
        "cursor",
        "idempotency_key",
    ]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["next"]["nullable"]
    # The document lists exactly the codes of the errors the API answers (payments.exceptions).
    error = served["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert error["code"]["enum"] == sorted({e.code for e in API_ERRORS})


def test_each_operation_documents_the_codes_it_answers_with_their_status():
    paths = openapi_document()["paths"]
    create = paths["/payments"]["post"]["responses"]
    codes = create["400"]["content"]["application/json"]["schema"]["properties"]["error"]
    assert codes["properties"]["code"]["enum"] == [
        "card_unknown",
        "code_invalid",
        "pin_wrong",
        "too_many_attempts",
        "validation_error",
    ]
    locked = create["423"]["content"]["application/json"]["schema"]["properties"]["error"]
    assert locked["properties"]["code"]["enum"] == ["card_blocked", "card_locked"]
    assert set(create) == {"201", "400", "401", "409", "410", "422", "423", "429"}
    assert set(paths["/payments/{number}"]["get"]["responses"]) == {"200", "401", "404", "429"}
    assert set(paths["/payments/{number}/cancel"]["post"]["responses"]) == {
        "200",
        "401",
        "404",
        "409",
        "422",
        "429",
    }


def test_every_operation_documents_the_limit_on_wrong_keys():
    for operations in openapi_document()["paths"].values():
        for operation in operations.values():
            throttled = operation["responses"]["429"]
            schema = throttled["content"]["application/json"]["schema"]
            assert schema["properties"]["error"]["properties"]["code"]["enum"] == [
                "api_key_throttled"
            ]
            assert "Retry-After" in throttled["headers"]
