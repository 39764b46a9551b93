# Drives the seed's backend functions the way its storefront endpoints do, printing JSON results.
import json
import sys

import payrails_backend as backend

step = sys.argv[1]
if step == 'place-order':
    instrument_id, order_reference, customer_reference = sys.argv[2:5]
    result = backend.place_order(
        payment_instrument_id=instrument_id,
        payment_method_code='card',
        amount={'value': '129.90', 'currency': 'EUR'},
        order_reference=order_reference,
        customer_reference=customer_reference,
    )
elif step == 'payment-return':
    # GET /payment-return/{executionId}: wait for the outcome after the challenge.
    result = backend.poll_execution(sys.argv[2], wait_while=['authorizePending'])
else:
    raise SystemExit(f'unknown step {step}')
print(json.dumps(result))
