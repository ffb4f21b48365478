"""One chat turn, step by step (spec §3 phases 1–4), each step reading and filling one ``ChatTurn``:

context → (embedding) → NLU → dialogue + strategy → account (card, wallet, home, emergency coupon)
→ where and when (search area, time rule) → retrieval → coupons + affordability → features →
Wide&Deep scoring (A/B variant, urgent reweighting) → when nothing fits, why → answer →
context save + logs (queued, off the request path; serving/turn_log.py).

Every stage is timed; the timings go back to the client and into ``performance_logs``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from infra.vocabulary import MAIN_MENU_ROLES, MEAL, Intent
from serving import ab, answer as answer_mod, coupon_wallet as cw, dialogue, features as feat, meal_card as mc
from infra.event_log import new_event_id
from serving import nothing_fits, opening, search_area, strategy as st, turn_log
from serving.chat_turn import ChatTurn, Stopwatch
from serving.exploration import explore, exploring
from serving.feedback import check_recommendation, record_feedback
from serving.ports import Account, Candidate
from serving.pricing import PriceContext, Priced, price_candidates
from serving.schemas import ChatRequest, FeedbackRequest

log = logging.getLogger(__name__)

RETRIEVAL_LIMIT = 40
#: hits per relaxed search when nothing fits: each relaxation offers one pick (the soonest open, the
#: cheapest, the nearest farther), and 10 halve the cost of 20 (up to six searches, 13.6 vs 26.4 ms)
ALTERNATIVE_LIMIT = 10
#: what a hungry child is offered first; "unknown" is a menu the warehouse has not classified yet
MEALS_FIRST = (MEAL, "unknown")
SNACK_FOOD_TYPES = frozenset({"카페·디저트", "베이커리"})
SNACK_WORDS = ("음료", "마실", "디저트", "간식", "커피", "주스", "빵", "케이크", "아이스크림", "빙수", "사이드")


def asks_for_snack(food_type: str | None, text: str) -> bool:
    """True when the child asks for a drink, dessert or side rather than a meal."""
    return food_type in SNACK_FOOD_TYPES or any(word in text for word in SNACK_WORDS)


def wants_a_meal(t: ChatTurn) -> bool:
    """Hungry, urgent, or asking with money or a meal time but no particular food: a meal first."""
    ents = t.reading.entities
    if asks_for_snack(ents.get("food_type"), t.req.text):
        return False
    return (t.strategy == st.URGENT or ents.get("urgency") == "high" or not ents.get("food_type")
            or ents.get("time_preference") in ("breakfast", "lunch", "dinner"))


class ChatPipeline:
    def __init__(self, *, nlu, retrieval, accounts, shop_features, user_features, contexts, events, scorers,
                 answerer=None, tz=timezone.utc, challenger_share: float = ab.DEFAULT_CHALLENGER_SHARE,
                 clock=None, exploration_share: float = 0.0, settings=None, recommendation_log=None,
                 lora_share: float = 0.0) -> None:
        self.nlu = nlu
        self.retrieval = retrieval
        self.accounts = accounts
        self.shop_features = shop_features
        self.user_features = user_features
        self.contexts = contexts
        self.events = events
        self.scorers = scorers
        self.answerer = answerer or answer_mod.TemplateAnswerer()
        self.tz = tz
        self.challenger_share = challenger_share
        self.lora_share = lora_share
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.exploration_share = exploration_share
        self.settings = settings
        #: recommendations_log lookups for /feedback about an answer older than the session context keeps
        self.recommendation_log = recommendation_log

    def close(self) -> None:
        """Drain the event log and the retrieval cache writer (service shutdown, CLI exit)."""
        self.events.close()
        flush = getattr(self.retrieval, "flush", None)
        if flush is not None:
            flush()

    def feedback(self, req: FeedbackRequest) -> tuple[dict[str, Any], int]:
        now = self.clock()
        refused = check_recommendation(req, contexts=self.contexts, log=self.recommendation_log, now=now)
        if refused is not None:
            return refused
        return record_feedback(req, accounts=self.accounts, events=self.events, now=now)

    # ------------------------------------------------------------------------------------
    def chat(self, req: ChatRequest, sw: Stopwatch | None = None) -> dict[str, Any]:
        """One turn; ``sw``: the service passes its own stopwatch to turn the stages into trace spans."""
        now = self.clock()
        t = ChatTurn(req=req, now=now, local=now.astimezone(self.tz), event_id=new_event_id(), sw=sw or Stopwatch())
        try:
            self._load_context(t)
            self._understand(t)
            self._load_account(t)
            self._find(t)
            return self._answer(t)
        except Exception as exc:
            turn_log.emit_failure(self.events, t, exc)
            raise

    # ---- steps ----------------------------------------------------------------------------
    def _load_context(self, t: ChatTurn) -> None:
        req = t.req
        with t.sw.stage("context"):
            try:
                saved, level, user_turns = self.contexts.load(req.session_id, req.user_id)
            except Exception as exc:  # PostgreSQL down and nothing cached: a fresh context, not an error
                log.warning("context unavailable (%s); starting a fresh one", type(exc).__name__)
                saved, level, user_turns = None, "unavailable", 0
            t.state = (dialogue.DialogueState.from_dict(saved) if saved
                       else dialogue.DialogueState.new(req.session_id, req.user_id, user_turns))
            t.state.user_turns = max(t.state.user_turns, user_turns)
        t.caches["context"] = level

    def _understand(self, t: ChatTurn) -> None:
        req = t.req
        if getattr(self.nlu, "wants_embedding", False):  # the query embedding first, when the model reads it
            with t.sw.stage("embedding"):
                t.vector, t.caches["embedding"] = self.retrieval.embed(req.text)
        with t.sw.stage("nlu"):
            t.nlu = self.nlu.parse(req.text, user_id=req.user_id, embedding=t.vector)
        t.caches["nlu"] = t.nlu.source or ("hit" if t.nlu.cache_hit else "miss")
        with t.sw.stage("dialogue"):
            text = t.nlu.normalized_text or req.text
            t.reading = dialogue.interpret(t.state, text, t.nlu.intent, t.nlu.entities,
                                           food_matches=getattr(self.nlu, "food_matches", None))
            t.strategy = st.choose_strategy(t.user_turn, t.reading.intent, t.reading.entities)
            if t.reading.intent == Intent.GROUP_DINING:
                t.party = self.nlu.party_size(text)
            if t.party is None and t.group:  # the party size said earlier in the session holds
                t.party = t.state.party_size

    def _load_account(self, t: ChatTurn) -> None:
        req, local = t.req, t.local
        with t.sw.stage("account"):
            try:
                account = self.accounts.load(req.user_id, t.now)
                if account.user_key is not None and mc.needs_emergency_coupon(account.card, local.date()):
                    t.emergency = self.accounts.issue_emergency_coupon(account.user_key, {
                        "balance": account.card.balance, "local_date": local.date().isoformat(),
                        "session_id": req.session_id, "event_id": t.event_id}, t.now)
                    if t.emergency:
                        account = self.accounts.load(req.user_id, t.now)
                t.caches["account"] = "postgres"
            except Exception as exc:  # PostgreSQL down: answer without card and wallet, and say nothing false
                log.warning("account unavailable (%s)", type(exc).__name__)
                account = Account(user_key=None)
                t.caches["account"] = "unavailable"
        t.account = account
        t.coupons = cw.live_coupons(account.coupons, t.local)
        budget = t.reading.entities.get("budget")
        stated = budget
        if t.group:
            stated = dialogue.share_of_budget(
                budget, t.party, shared=t.nlu.entities.get("budget") is not None or t.state.budget_shared)
        t.limit = mc.spend_limit(stated, t.card)  # the child's own meal still has to fit the card
        if t.reading.cheaper and t.state.last_recommendations:
            cheapest = min(int(r.get("final_price") or 0) for r in t.state.last_recommendations)
            t.limit = min(t.limit, cheapest - 1) if t.limit is not None else cheapest - 1
        walk = search_area.walk_radius_m(account.age, self.settings)
        t.area = search_area.resolve(location=req.location, place=t.reading.entities.get("location_preference"),
                                     account=account, walk_m=walk, closer=t.reading.closer)
        t.when = opening.search_time(t.minute, t.reading.entities.get("time_preference"),
                                     urgent=t.strategy == st.URGENT)

    def _find(self, t: ChatTurn) -> None:
        r = t.reading
        t.variant, t.scorer_name = ab.CHAMPION, getattr(self.scorers.get(ab.CHAMPION), "name", "")
        finding = (r.intent in dialogue.FOOD_FINDING_INTENTS or r.refinement
                   or r.intent == Intent.COUPON_INQUIRY or r.back_reference is not None)
        if r.back_reference is not None:
            t.recommended = self._recall(t)
            t.method = "hybrid"
        elif finding:
            self._recommend(t)
            if t.strategy == st.URGENT:
                t.method = "emergency"
            elif r.intent == Intent.COUPON_INQUIRY:
                t.method = "coupon_based"
            elif "fallback" in t.scorer_name:
                t.method = "hybrid"

    # ---- finding ----------------------------------------------------------------------------
    def _price_context(self, t: ChatTurn, shown_before=frozenset()) -> PriceContext:
        return PriceContext(coupons=t.coupons, has_card=t.has_card, limit=t.limit, area=t.area, minute=t.minute,
                            now=t.local, excluded_categories=tuple(t.reading.excluded_categories),
                            shown_before=frozenset(shown_before))

    def _filters(self, t: ChatTurn, max_discount: int, *, meals_only: bool) -> dict[str, Any]:
        r = t.reading
        f: dict[str, Any] = {"open_now": True, "at": t.now + timedelta(minutes=t.when.offset_min)}
        food = r.entities.get("food_type")
        if food and food not in r.excluded_categories:
            f["categories"] = [food]
        if not asks_for_snack(food, t.req.text):
            # a child asking for a meal must not be offered a can of cider
            f["menu_categories"] = list(MAIN_MENU_ROLES)
        if meals_only:
            f["meal_kinds"] = list(MEALS_FIRST)
        if t.limit is not None:
            f["max_price"] = int(t.limit + max_discount)
        if (t.has_card and not t.group) or t.strategy == st.URGENT:
            f["food_card_only"] = True
        if r.entities.get("dietary_restrictions"):
            f["dietary"] = list(r.entities["dietary_restrictions"])
        near = t.area.near()
        if near is not None:
            f["near"] = near
        return f

    @staticmethod
    def _query(t: ChatTurn) -> tuple[str, Any]:
        """What this turn searches, and the request's embedding when it is of that same text."""
        query = t.reading.query_text
        return query, t.vector if query in (t.req.text, t.nlu.normalized_text) else None

    def _search_each(self, t: ChatTurn, filter_sets: list[dict[str, Any]]) -> list[list]:
        query, vector = self._query(t)
        return self.retrieval.search_each(query, filter_sets, ALTERNATIVE_LIMIT, query_vector=vector)

    def _search(self, t: ChatTurn, filters: dict[str, Any], limit: int):
        query, vector = self._query(t)
        out = self.retrieval.search(query, filters, limit, query_vector=vector)
        if out.embedding and "embedding" not in t.caches:
            t.caches["embedding"] = out.embedding
        return out

    def _recommend(self, t: ChatTurn) -> None:
        r = t.reading
        max_d = cw.max_discount(t.coupons, t.local, t.limit) if t.limit is not None else 0
        meal_first = wants_a_meal(t)
        filters = self._filters(t, max_d, meals_only=meal_first)
        with t.sw.stage("retrieval"):
            out = self._search(t, filters, RETRIEVAL_LIMIT)
        t.caches["retrieval"] = out.cache
        shown_before = {int(x["shop_id"]) for x in t.state.last_recommendations} if r.other else set()
        ctx = self._price_context(t, shown_before)
        with t.sw.stage("coupons"):
            fitting = [p for p in price_candidates(out.candidates, ctx) if p.affordable]
            if not fitting and meal_first:  # no meal fits the money: a snack, said as such
                filters.pop("meal_kinds")
                snacks = self._search(t, filters, RETRIEVAL_LIMIT)
                fitting = [p for p in price_candidates(snacks.candidates, ctx) if p.affordable]
                t.snack_fallback = bool(fitting)
            if r.intent == Intent.COUPON_INQUIRY and any(p.coupon for p in fitting):
                fitting = [p for p in fitting if p.coupon]

        t.variant = ab.assign_variant(t.req.user_id, challenger_share=self.challenger_share,
                                      challenger_available=ab.CHALLENGER in self.scorers,
                                      lora_share=self.lora_share, lora_available=ab.LORA_VARIANT in self.scorers)
        scorer = self.scorers[t.variant]
        t.scorer_name = scorer.name
        if fitting:
            self._rank(t, scorer, fitting)
            shown = fitting[: st.max_recommendations(t.strategy, t.req.max_results)]
            if t.strategy != st.URGENT and exploring(self.exploration_share, t.req.user_id, t.req.session_id, t.now):
                shown = explore(fitting, len(shown), t.req.user_id, t.now)
            t.recommended = shown
            return
        with t.sw.stage("alternatives"):
            why = nothing_fits.diagnose(lambda sets: self._search_each(t, sets), filters, ctx)
        t.why_nothing, t.alternatives = why, why.alternatives

    def _rank(self, t: ChatTurn, scorer, fitting: list[Priced]) -> None:
        req = t.req
        with t.sw.stage("features"):
            shop_ids = [p.cand.shop_id for p in fitting]
            try:
                user_f, t.caches["user_features"] = self.user_features.get(req.user_id, shop_ids)
            except Exception as exc:  # answer with cold-start features rather than not at all
                log.warning("user features unavailable (%s)", type(exc).__name__)
                user_f, t.caches["user_features"] = {}, "unavailable"
            shops = self.shop_features.get(shop_ids)
            self._featurize(t, fitting, shops, user_f)
        with t.sw.stage("ranking"):
            self._score(t, scorer, fitting, shops, user_f)
            if t.strategy == st.URGENT and t.area.known:
                fitting.sort(key=lambda p: (round((p.distance_m or 0) / 200), -p.score))
            else:
                fitting.sort(key=lambda p: -p.score)

    def _featurize(self, t: ChatTurn, fitting: list[Priced], shops, user_f) -> None:
        liked = list(t.state.liked_categories)
        if t.reading.entities.get("food_type"):
            liked.append(t.reading.entities["food_type"])
        items = [feat.CandidateInput(category=p.cand.category, final_price=p.final_price, distance_m=p.distance_m,
                                     shop=shops.get(p.cand.shop_id) or {"shop_id": p.cand.shop_id},
                                     meal_card_usable=p.takes_card) for p in fitting]
        for p, f in zip(fitting, feat.candidate_features(items, user=user_f, liked=liked, limit=t.limit,
                                                          minute_of_day=t.minute)):
            p.features = f

    def _score(self, t: ChatTurn, scorer, fitting: list[Priced], shops, user_f) -> None:
        cand_feats = []
        for p in fitting:
            shop = shops.get(p.cand.shop_id) or {}
            cand_feats.append({**shop, **p.features, "shop_id": p.cand.shop_id, "menu_id": p.cand.menu_id,
                               "category": p.cand.category, "price": p.cand.price, "final_price": p.final_price,
                               "lat": p.cand.lat, "lon": p.cand.lon, "distance_m": p.distance_m})
        context = {"minute_of_day": t.minute, "lat": t.area.lat, "lon": t.area.lon, "budget": t.limit,
                   "strategy": t.strategy, "text": t.req.text}
        result = scorer.score({**user_f, "user_id": t.req.user_id}, cand_feats, context)
        self_reweights = not getattr(scorer, "applies_strategy", False)
        for i, p in enumerate(fitting):
            s = float(result.scores[i])
            contrib = dict(result.contributions[i]) if i < len(result.contributions) else {}
            if self_reweights:
                s, contrib = st.reweight_score(s, contrib, t.strategy)
            if result.features and i < len(result.features):  # the ranker's own engineered columns
                p.model_features = {k: float(v) for k, v in result.features[i].items() if k in feat.STORED}
            p.score, p.contributions = s, contrib

    def _recall(self, t: ChatTurn) -> list[Priced]:
        """"아까 거": the recommendation referred to, priced again against today's card and wallet
        (a coupon may have been used since, the balance may have dropped)."""
        items = list(t.state.last_recommendations)
        if not items:
            return []
        index = t.reading.back_reference
        r = items[index] if -len(items) <= index < len(items) else items[0]
        c = Candidate(shop_id=int(r["shop_id"]), menu_id=r.get("menu_id"), shop_name=r.get("shop_name") or "",
                      menu_name=r.get("menu_name") or "", price=int(r.get("price") or 0),
                      category=r.get("category") or "", food_card_flag="Y" if r.get("meal_card_usable") else "N",
                      meal_kind=r.get("meal_kind") or "unknown")
        priced = price_candidates([c], self._price_context(t))
        if not priced:
            return []
        p = priced[0]
        # the opening hours are not in the context: the status shown a few minutes ago stands
        p.open_now, p.score = bool(r.get("open_now", True)), 1.0
        if p.distance_m is None:
            p.distance_m = r.get("distance_m")
        return [p]

    # ---- answer -----------------------------------------------------------------------------
    def _rec_out(self, t: ChatTurn, rank: int, p: Priced, kind: str | None = None) -> dict[str, Any]:
        breakdown = feat.reason_breakdown(p.features, p.open_now) if p.features else {}
        out = {
            "rank": rank, "shop_id": p.cand.shop_id, "shop_name": p.cand.shop_name, "menu_id": p.cand.menu_id,
            "menu_name": p.cand.menu_name, "category": p.cand.category, "price": p.cand.price,
            "coupon": ({"coupon_id": p.coupon.coupon.coupon_id, "name": p.coupon.coupon.name,
                        "discount": p.coupon.discount} if p.coupon else None),
            "coupon_id": p.coupon.coupon.coupon_id if p.coupon else None,
            "coupon_name": p.coupon.coupon.name if p.coupon else None,
            "final_price": p.final_price, "affordable": p.affordable, "meal_card_usable": p.takes_card,
            "open_now": p.open_now, "opens_at": p.opens_at(t.minute), "meal_kind": p.cand.meal_kind,
            "distance_m": round(p.distance_m, 1) if p.distance_m is not None else None,
            "reason": feat.reason_label(breakdown) if breakdown else "아까 추천",
            "reason_breakdown": breakdown, "score": round(float(p.score), 4),
            "feature_contributions": {k: round(float(v), 4) for k, v in p.contributions.items()},
            **({"explored": True} if p.explored else {}),
        }
        if kind is not None:
            out["kind"] = kind
        return out

    def _answer(self, t: ChatTurn) -> dict[str, Any]:
        r, req, card = t.reading, t.req, t.card
        with t.sw.stage("answer"):
            recs_out = [self._rec_out(t, i + 1, p) for i, p in enumerate(t.recommended)]
            # only a recalled recommendation can be over the limit now; the answer says so
            over_budget = [x for x in recs_out if not x["affordable"]]
            alts_out = [self._rec_out(t, i + 1, p, kind) for i, (kind, p) in enumerate(t.alternatives)]
            why = t.why_nothing
            plan = answer_mod.AnswerPlan(
                strategy=t.strategy, intent=r.intent, entities=r.entities, recommendations=recs_out,
                spend_limit=t.limit, balance=card.balance if t.has_card else None, has_card=t.has_card,
                emergency_coupon=({"name": "월말 긴급 지원 쿠폰", "amount": cw.EMERGENCY_DISCOUNT_WON}
                                  if t.emergency else None),
                wallet=cw.summarize(t.coupons), alternatives=alts_out, over_budget=over_budget,
                ask_preference=st.wants_preference_question(
                    t.strategy, len(t.state.liked_categories) + (1 if r.entities.get("food_type") else 0)),
                party_size=t.party, refinement=r.refinement, back_reference=r.back_reference is not None,
                cheaper=r.cheaper, balance_unknown=t.caches.get("account") == "unavailable",
                why_nothing=({"reason": why.reason, "binding": why.binding, "shortfall": why.shortfall}
                             if why else None),
                area_known=t.area.known, snack_fallback=t.snack_fallback, seed=int(t.event_id[:8], 16),
            )
            text = self.answerer.generate(plan)
        with t.sw.stage("logging"):  # remember and log (queued; never waits on the database)
            new_state = dialogue.remember(t.state, turn=r, intent=t.nlu.intent, entities=t.nlu.entities,
                                          strategy=t.strategy, recommendations=recs_out, event_id=t.event_id,
                                          party_size=t.party)
            self.contexts.save(new_state.to_dict())
            timings = {k: round(v, 3) for k, v in t.sw.stages.items()}
            turn_log.emit_turn(self.events, t, new_state, recs_out, text, timings, t.sw.total())
        timings = {k: round(v, 3) for k, v in t.sw.stages.items()}
        timings["total"] = round(t.sw.total(), 3)
        return {
            "event_id": t.event_id, "user_id": req.user_id, "session_id": req.session_id, "turn": new_state.turn,
            "user_turn": t.user_turn, "answer": text, "intent": r.intent,
            "utterance_intent": t.nlu.intent, "confidence": round(t.nlu.confidence, 4),
            "entities": r.entities, "nlu_entities": t.nlu.entities, "strategy": t.strategy, "model_variant": t.variant,
            "ranking_model": t.scorer_name, "recommendations": recs_out, "alternatives": alts_out,
            "why_nothing": ({"reason": why.reason, "binding": why.binding, "text": answer_mod.why_text(plan)}
                            if why else None),
            "search_area": t.area.as_dict(),
            "search_time": {"rule": t.when.rule, "at": opening.hhmm(t.when.minute)},
            "meal_card": {"has_card": t.has_card, "balance": card.balance if t.has_card else None,
                          "spend_limit": t.limit, "emergency_coupon_issued": t.emergency,
                          "balance_checked": t.caches.get("account") != "unavailable"},
            "refinement": r.refinement, "back_reference": r.back_reference is not None,
            "timings_ms": timings, "cache": t.caches,
        }
