"""Periodic work of the DSAR service (what each job does is in ``service/``)."""

from __future__ import annotations

from services.dsar.service.certificates import sign_pending
from services.dsar.service.contract_ends import run_contract_ends
from services.dsar.service.periodic import check_deadlines, purge_expired_content, redeliver_tasks
from services.dsar.service.transfer_delivery import deliver_transfers
from shared.runtime.jobs import PeriodicJob

JOBS = [
    PeriodicJob("dsar.deadlines", check_deadlines, interval_s=60.0),
    PeriodicJob("dsar.task-redelivery", redeliver_tasks, interval_s=30.0),
    PeriodicJob("dsar.purge", purge_expired_content, interval_s=3600.0),
    # Certificates the identity service could not sign when the erasure completed (it was away).
    PeriodicJob("dsar.certificate-signing", sign_pending, interval_s=5.0),
    # Portability packages due to the receiving controller (Art. 20(2)): first sends and back-off retries.
    PeriodicJob("dsar.portability-transfer", deliver_transfers, interval_s=5.0),
    # Contract ends: start on their effective date, return, delete, certify; re-publish unanswered tasks.
    PeriodicJob("dsar.contract-ends", run_contract_ends, interval_setting="contract_end_job_interval_s"),
]
