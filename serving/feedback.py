"""``/feedback``: what the child did with a recommendation → ``user_interactions`` and the
recommendation's own ``recommendations_log`` row; using a coupon is the one atomic write.

A reaction must be about a recommendation this child was shown in this session, and about a shop
it contained (``check_recommendation``); anything else is refused before it is recorded, so no
one can mark another child's list or feed the training data a choice that was never offered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from infra.event_log import new_event_id
from infra.event_log.tables import REACTION_WINDOW_DAYS
from serving import coupon_wallet as cw
from serving.schemas import FeedbackRequest

#: actions that mean the child picked this shop (recommendations_log.user_final_selection)
CHOOSING_ACTIONS = frozenset({"selection", "order", "coupon_use"})
INTERACTION_TYPES = {"detail_view": "detail_view", "selection": "selection", "coupon_use": "coupon_use",
                     "order": "order", "satisfaction": "feedback"}


REACTION_WINDOW = timedelta(days=REACTION_WINDOW_DAYS)


def check_recommendation(req: FeedbackRequest, *, contexts, log, now: datetime) -> tuple[dict[str, Any], int] | None:
    """``None`` when ``req`` reacts to a shop of a recommendation shown to this user in this
    session; otherwise the refusal: 404 (no such recommendation for this user and session: the
    same answer whether it does not exist or is someone else's) or 409 (the shop was not in it).
    The session context answers for its last few answers; older ones are read from the log."""
    state, _, _ = contexts.load(req.session_id, req.user_id)
    shops = ((state or {}).get("shown") or {}).get(req.recommendation_id)
    if shops is None and log is not None:
        found = log.shown(req.recommendation_id, since=now - REACTION_WINDOW)
        if found is not None and found[0] == req.user_id and found[1] == req.session_id:
            shops = found[2]
    if shops is None:
        return {"ok": False, "status": "recommendation_not_found", "event_id": None}, 404
    if req.shop_id not in shops:
        return {"ok": False, "status": "shop_not_recommended", "event_id": None}, 409
    return None


def record_feedback(req: FeedbackRequest, *, accounts, events, now) -> tuple[dict[str, Any], int]:
    status, code, discount = "recorded", 200, None
    if req.action == "coupon_use":
        from serving.adapters import user_key

        uid = user_key(req.user_id)
        ok = False
        if uid is not None:
            if req.order_amount is not None:
                acct = accounts.load(req.user_id, now)
                held = next((c for c in acct.coupons if c.coupon_id == req.coupon_id), None)
                discount = cw.discount_for(held, req.order_amount) if held else None
            ok = accounts.use_coupon(uid, req.coupon_id, req.shop_id, req.menu_id, req.order_amount, discount, now)
        status, code = ("coupon_used", 200) if ok else ("coupon_unavailable", 409)
    paid_from = None  # the card balance an order was paid from (what the A/B mart weighs the price by)
    if req.action == "order" and req.menu_id is not None and req.order_amount is not None:
        from serving.adapters import user_key

        uid = user_key(req.user_id)  # a first-time chat user has no users row to order under
        if uid is not None:  # product_orders + the card payment (serving/orders.py)
            paid_from = accounts.record_order(uid, req.shop_id, req.menu_id, req.order_amount, now).card_balance_before
    event_id = new_event_id()
    selection = {"shop_id": req.shop_id, "menu_ids": [req.menu_id] if req.menu_id else [],
                 "coupon_id": req.coupon_id, "final_price": req.order_amount,
                 "recommendation_id": req.recommendation_id, "action": req.action,
                 **({"card_balance_before": paid_from} if paid_from is not None else {})}
    chose = req.action in CHOOSING_ACTIONS and (req.action != "coupon_use" or code == 200)
    events.emit_many([("user_interactions", {
        "user_id": req.user_id, "session_id": req.session_id, "timestamp": now,
        "interaction_type": INTERACTION_TYPES[req.action], "user_selection": selection,
        "coupon_usage": ({"coupon_id": req.coupon_id, "result": status, "discount": discount}
                         if req.action == "coupon_use" else None),
        "satisfaction_score": req.satisfaction, "interaction_sequence_pattern": req.action,
        "event_id": event_id}),
        ("recommendation_reactions", {
            "recommendation_id": req.recommendation_id, "at": now, "user_id": req.user_id, "session_id": req.session_id,
            "viewed_shop_id": req.shop_id if req.action != "satisfaction" else None,
            "selected_shop_id": req.shop_id if chose else None})])
    return {"ok": code == 200, "status": status, "event_id": event_id}, code
