"""schemathesis over every operation of the served OpenAPI document, against a live server:
no 5xx, every response as documented, and no schema-valid request refused for a reason the
document does not give."""

import pytest
import schemathesis
from django.db import connection
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from payments.exceptions import ApiValidationError
from payments.models import Payment
from tests.payments.conftest import api_key, code_for  # noqa: F401  (api_key is a fixture)
from wallets.services import wallet_credentials_issue

MAX_EXAMPLES = 30


@schemathesis.check
def schema_valid_create_is_not_a_validation_error(ctx, response, case):
    """createPayment's body and headers are wholly described by the document, so a valid
    request may be refused for the code or the balance, never as malformed. (Listing also
    refuses ranges and cursors the schema cannot describe, as its parameters say.)"""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if case.operation.definition.raw.get("operationId") != "createPayment":
        return None
    if response.status_code == 400 and ApiValidationError.code in response.text:
        raise AssertionError(f"schema-valid request refused: {response.text[:200]}")
    return None


@pytest.mark.django_db(transaction=True)
def test_the_api_keeps_to_its_document(live_server, api_key, wallet):  # noqa: F811
    config = SchemathesisConfig.from_dict(
        {
            "base-url": f"{live_server.url}/api/v1",
            # One HTTP connection per request: a kept-alive one holds a server thread and its
            # database session past the test, and the test database cannot be dropped.
            "headers": {"Authorization": f"Bearer {api_key}", "Connection": "close"},
            "workers": 1,
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {
                # The documented refusals of valid data: a code or card that is not one (400),
                # used or expired (409, 410), a balance or store that does not allow it (422),
                # a card locked by wrong PINs (423).
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "404", "409", "410", "422", "423"]
                },
            },
        }
    )
    card = wallet_credentials_issue([wallet])[0]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=config)

    @schema.hook
    def map_case(context, case):
        """Valid creates carry a code the resident's phone would show (valid 60 s, longer than
        the run), or the wallet's card and PIN, so payments are made, not only refused."""
        body, meta = case.body, case.meta
        positive = meta is not None and meta.generation.mode.is_positive
        if case.operation.label == "POST /payments" and positive and isinstance(body, dict):
            if "card_token" in body:
                body["card_token"], body["pin"] = card.card_token, card.pin
            else:
                body["code"] = code_for(wallet)
                connection.close()  # this thread's session, or the test database cannot be dropped
        return case

    requests, failures = 0, []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                failures += [
                    (
                        event.recorder.label,
                        check.name,
                        str(check.failure_info.failure.message)[:400]
                        + str(check.failure_info.code_sample)[:400],
                    )
                    for check in checks
                    if check.status == Status.FAILURE
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(
                ("error", type(event).__name__, str(getattr(event, "info", event))[:300])
            )
    print(f"schemathesis: {requests} requests, {len(failures)} failures", *failures, sep="\n")
    assert requests > 4 * MAX_EXAMPLES
    assert Payment.objects.filter(mode=Payment.Mode.POS).exists()
    assert Payment.objects.filter(mode=Payment.Mode.CARD).exists()
    assert failures == []
