"""Information sharing protocols as machine-readable policy (SPEC §7).

One module per concept:

- ``model``     parse and check an ISP document (``parse_isp``, ``IspDocument``, ``Rule``)
- ``request``   the question (``PolicyRequest``) and the closed request space
- ``decision``  ``Decision`` with its basis and digest; ``combine`` joins two sides
- ``scan``      the reference evaluation by rule scan
- ``compiled``  the decision tables the hub decides with
- ``signed``    how the engine reads documents: signed by their authority
                (the hub), or unsigned (``Unsafe…``, the tools only)
- ``engine``    documents in force, installs, folder loads, shadow mode
- ``sign``      signing the agreed texts (``irthub policy sign``, ``sign-all``)
- ``diff``      complete comparisons between versions and shadow runs
- ``fixtures``  expected-decision files shipped beside each document
- ``explain``   plain-English explanations
"""

from hub.policy.compiled import CompiledIsp, CompiledPolicy, compile_isp
from hub.policy.decision import Basis, Decision, SideGrant, combine
from hub.policy.diff import Change, Grant, diff_documents, group_changes, shadow_changes
from hub.policy.engine import LoadOutcome, LoadReport, PolicyEngine
from hub.policy.model import (
    IspDocument,
    Obligations,
    PartnerSet,
    Rule,
    build_isp,
    load_isp,
    parse_isp,
)
from hub.policy.request import MessageClass, PolicyRequest, request_space
from hub.policy.scan import scan_decide, scan_side
from hub.policy.sign import SignedIsp, sign_folder, sign_isp
from hub.policy.signed import IspReader, SignedIspReader, UnsafeUnsignedIspReader

__all__ = [
    "Basis",
    "Change",
    "CompiledIsp",
    "CompiledPolicy",
    "Decision",
    "Grant",
    "IspDocument",
    "IspReader",
    "LoadOutcome",
    "LoadReport",
    "MessageClass",
    "Obligations",
    "PartnerSet",
    "PolicyEngine",
    "PolicyRequest",
    "Rule",
    "SideGrant",
    "SignedIsp",
    "SignedIspReader",
    "UnsafeUnsignedIspReader",
    "build_isp",
    "combine",
    "compile_isp",
    "diff_documents",
    "group_changes",
    "load_isp",
    "parse_isp",
    "request_space",
    "scan_decide",
    "scan_side",
    "shadow_changes",
    "sign_folder",
    "sign_isp",
]
