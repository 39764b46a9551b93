# The backend code of the seed (shared/seeds/004_42988a806908c2b6.txt), copied verbatim, block by
# block, in an order in which Python can define it (the page prints `create_execution`'s imports
# after `get_client_init`, which uses them). Only the host and credentials differ, through the
# environment variables the seed itself reads. Do not edit: the integration test runs this as is.
import os
import requests

PAYRAILS_HOST = os.environ['PAYRAILS_HOST']
PAYRAILS_CLIENT_ID = os.environ['PAYRAILS_CLIENT_ID']
PAYRAILS_CLIENT_SECRET = os.environ['PAYRAILS_CLIENT_SECRET']


def get_access_token() -> str:
    """Return a fresh Payrails OAuth token."""
    response = requests.post(
        f'https://{PAYRAILS_HOST}/auth/token/{PAYRAILS_CLIENT_ID}',
        headers={'x-api-key': PAYRAILS_CLIENT_SECRET},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()['access_token']


import uuid
from typing import Any

PAYRAILS_WORKSPACE_ID = os.environ['PAYRAILS_WORKSPACE_ID']
PAYRAILS_WORKFLOW_CODE = 'payment-acceptance'


def create_execution(
    merchant_reference: str,
    holder_reference: str,
    meta: dict[str, Any],
) -> str:
    """Create a Payrails execution with metadata only. Returns the executionId."""
    token = get_access_token()
    response = requests.post(
        f'https://{PAYRAILS_HOST}/merchant/workflows'
        f'/{PAYRAILS_WORKFLOW_CODE}/executions',
        headers={
            'Authorization':     f'Bearer {token}',
            'Content-Type':      'application/json',
            'x-idempotency-key': str(uuid.uuid4()),
        },
        json={
            'merchantReference': merchant_reference,
            'holderReference':   holder_reference,
            'workspaceId':       PAYRAILS_WORKSPACE_ID,
            'meta':              meta,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()['id']


def get_client_init(
    holder_reference: str,
    init_type: str,
) -> dict[str, Any]:
    """Fetch a client/init payload from Payrails for the storefront SDK."""
    token = get_access_token()
    response = requests.post(
        f'https://{PAYRAILS_HOST}/merchant/client/init',
        headers={
            'Authorization':     f'Bearer {token}',
            'Content-Type':      'application/json',
            'x-idempotency-key': str(uuid.uuid4()),
        },
        json={
            'workflowCode':    PAYRAILS_WORKFLOW_CODE,
            'holderReference': holder_reference,
            'workspaceId':     PAYRAILS_WORKSPACE_ID,
            'type':            init_type,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def authorize_execution(
    execution_id: str,
    amount: dict[str, str],
    payment_instrument_id: str,
    payment_method_code: str,
    return_url: str,
) -> dict[str, Any]:
    """Dispatch the authorize. Outcome arrives via long-poll or webhook."""
    token = get_access_token()
    response = requests.post(
        f'https://{PAYRAILS_HOST}/merchant/workflows'
        f'/{PAYRAILS_WORKFLOW_CODE}/executions/{execution_id}/authorize',
        headers={
            'Authorization':     f'Bearer {token}',
            'Content-Type':      'application/json',
            'x-idempotency-key': str(uuid.uuid4()),
        },
        json={
            'amount':     amount,
            'returnInfo': {'success': return_url},
            'paymentComposition': [{
                'paymentMethodCode':   payment_method_code,
                'integrationType':     'api',
                'amount':              amount,
                'storeInstrument':     False,
                'paymentInstrumentId': payment_instrument_id,
            }],
        },
        timeout=15,
    )
    response.raise_for_status()
    return response.json()


def place_order(
    payment_instrument_id: str,
    payment_method_code:   str,
    amount: dict[str, str],
    order_reference: str,
    customer_reference: str,
) -> dict[str, Any]:
    """End-to-end place-order endpoint called by the storefront."""
    execution_id = create_execution(
        merchant_reference=order_reference,
        holder_reference=customer_reference,
        meta={
            'order':    {'reference': order_reference},
            'customer': {'reference': customer_reference},
            'tags':     {'channel': 'web'},
        },
    )

    authorize_execution(
        execution_id=execution_id,
        amount=amount,
        payment_instrument_id=payment_instrument_id,
        payment_method_code=payment_method_code,
        return_url=f'https://yourdomain.example/payment-return/{execution_id}',
    )

    result = poll_execution(
        execution_id,
        wait_while=['created', 'authorizeRequested'],
    )

    if result.get('actionRequired') == '3ds':
        return {
            'actionRequired': '3ds',
            'redirectUrl':    result['requiredAction']['href'],
            'executionId':    execution_id,
        }

    return {
        'status':         result.get('status'),
        'executionId':    execution_id,
        'orderReference': order_reference,
    }


import json


def handle_webhook(raw_body: bytes, signature_header: str) -> tuple[int, str]:
    """Webhook entry point. Returns (status_code, body)."""
    if not verify_payrails_signature(raw_body, signature_header):
        return 401, 'invalid signature'

    event = json.loads(raw_body)
    if event['event'] == 'executionActionCompleted':
        details = event['details']
        if details['action'] == 'authorize' and details['success']:
            mark_order_paid(
                order_reference=details['execution']['merchantReference'],
                execution_id=details['execution']['id'],
            )

    return 200, 'ok'


import json


def poll_execution(
    execution_id: str,
    wait_while: list[str],
    timeout_seconds: int = 30,
) -> dict[str, Any]:
    """Long-poll for the execution to leave the listed pre-terminal states."""
    token = get_access_token()
    response = requests.get(
        f'https://{PAYRAILS_HOST}/merchant/workflows'
        f'/{PAYRAILS_WORKFLOW_CODE}/executions/{execution_id}',
        params={'waitWhile[status]': json.dumps(wait_while)},
        headers={'Authorization': f'Bearer {token}'},
        timeout=timeout_seconds,
    )
    response.raise_for_status()
    return response.json()
