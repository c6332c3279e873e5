"""A demo repository for a retail bank, built by ``manage.py seed_demo``.

The data is a whole, consistent repository: people and teams, personas, a customer
lifecycle map that zooms into the seven essential journeys and from there into task
maps, pain points and other lane items, KPIs with a year of monthly measurements,
qualitative ratings, reviews and CX projects in every status.

Seeding is idempotent. Every row is found by its natural key (users by username,
maps by slug, steps by map and key, pain points by map and title, …) and is only
written when it is missing or differs from the demo definition, so a second run on
the same day changes nothing and adds no history. Random values come from
``random.Random`` instances seeded from fixed strings, so they are the same on
every run. Dates are relative to today, at day granularity.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from .models import (
    KPI,
    CXProject,
    Evidence,
    JourneyMap,
    LaneItem,
    Measurement,
    PainPoint,
    Persona,
    Perspective,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)

SEED = "journeyhub-demo-retail-bank"
PASSWORD = "journeyhub"
MEASUREMENT_MONTHS = 12

DIGITAL_TEAM = "Digital onboarding team"
SERVICING_TEAM = "Servicing team"


def leadership_group() -> str:
    return settings.JOURNEYHUB_LEADERSHIP_GROUP


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    groups: tuple[str, ...] = ()
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


def user_specs() -> list[UserSpec]:
    return [
        UserSpec("admin", "Ada", "Admin", is_staff=True, is_superuser=True),
        UserSpec("leader", "Lee", "Leader", groups=(leadership_group(),)),
        UserSpec("olivia", "Olivia", "Owens", groups=(DIGITAL_TEAM,)),
        UserSpec("omar", "Omar", "Olsen", groups=(SERVICING_TEAM,)),
        UserSpec("tess", "Tess", "Taylor", groups=(DIGITAL_TEAM,)),
        UserSpec("vic", "Vic", "Vance"),
    ]


def team_of(username: str) -> str | None:
    return {"olivia": DIGITAL_TEAM, "omar": SERVICING_TEAM, "leader": leadership_group()}.get(
        username
    )


PERSONAS = [
    (
        "young-professional",
        "Young professional",
        "29, salaried, banks almost only on the phone. Switches provider if opening an "
        "account takes more than a day; expects instant notifications for everything.",
    ),
    (
        "small-business-owner",
        "Small business owner",
        "Runs a bakery with four staff. Needs fast, predictable payments, clear fees and "
        "someone to call when something breaks at 7 in the morning.",
    ),
    (
        "retiree",
        "Retiree",
        "71, prefers the branch and the phone, uses the app to check the balance. "
        "Worried about fraud and about branches closing.",
    ),
    (
        "newcomer",
        "Newcomer to the country",
        "Moved here for work three months ago. Foreign passport, no local credit history "
        "and no utility bill in their own name yet.",
    ),
]


# ----------------------------------------------------------------------------- maps


@dataclass(frozen=True)
class StepSpec:
    key: str
    name: str
    channel: str
    emotion: int
    flags: str = ""  # "M": moment of truth, "R": recurring
    description: str = ""


@dataclass(frozen=True)
class KPISpec:
    name: str
    perspective: str  # "B" business, "C" customer
    unit: str
    direction: str  # "H" higher is better, "L" lower is better
    baseline: float | None
    target: float | None
    step: str | None = None
    source: str = "M"  # "M" manual, "A" analytics
    weight: float = 1.0
    description: str = ""


@dataclass
class MapSpec:
    slug: str
    title: str
    owner: str
    status: str
    summary: str
    parent: str | None = None
    parent_step: str | None = None
    persona: str | None = None
    review_every_days: int = 90
    reviewed_days_ago: int | None = None  # None: never reviewed
    created_days_ago: int = 365
    stages: list[tuple[str, list[StepSpec]]] = field(default_factory=list)
    # (from key, to key, kind, label)
    links: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (step key or None, "C"/"E", severity, frequency, title)
    pain_points: list[tuple[str | None, str, int, int, str]] = field(default_factory=list)
    # (kind, step key or None, title, url)
    lane_items: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    kpis: list[KPISpec] = field(default_factory=list)
    # ("B"/"C", name, rating, note)
    factors: list[tuple[str, str, int, str]] = field(default_factory=list)


S = StepSpec
K = KPISpec
PUBLISHED = JourneyMap.Status.PUBLISHED
DRAFT = JourneyMap.Status.DRAFT
ARCHIVED = JourneyMap.Status.ARCHIVED
BRANCH = StepLink.Kind.BRANCH
LOOP = StepLink.Kind.LOOP
SKIP = StepLink.Kind.SKIP
INSIGHT = LaneItem.Kind.INSIGHT
OPPORTUNITY = LaneItem.Kind.OPPORTUNITY
RESEARCH = LaneItem.Kind.RESEARCH
IDEA = LaneItem.Kind.IDEA
RESEARCH_URL = "https://research.example.com/"


MAPS: list[MapSpec] = [
    # ------------------------------------------------------------------ level 1
    MapSpec(
        slug="customer-lifecycle",
        title="Customer lifecycle",
        owner="leader",
        status=PUBLISHED,
        summary=(
            "The whole relationship with a personal current-account customer, from first "
            "hearing of us to closing the account. Each step zooms into one of the seven "
            "essential journeys."
        ),
        review_every_days=180,
        reviewed_days_ago=20,
        created_days_ago=540,
        stages=[
            (
                "Discover",
                [
                    S(
                        "hear-about-us",
                        "Hear about the bank",
                        "other",
                        0,
                        description="An advert, a friend's recommendation, a comparison site.",
                    ),
                    S(
                        "choose-account",
                        "Choose a current account",
                        "web",
                        1,
                        description="Compare accounts, fees and switching offers.",
                    ),
                ],
            ),
            (
                "Join",
                [
                    S(
                        "open-account",
                        "Open an account",
                        "app",
                        -1,
                        "M",
                        "Apply, prove identity and get the card and the app working.",
                    ),
                    S(
                        "switch-in",
                        "Switch salary and payments",
                        "web",
                        -1,
                        description="Move salary, direct debits and standing orders over.",
                    ),
                ],
            ),
            (
                "Use",
                [
                    S(
                        "everyday-banking",
                        "Use everyday banking",
                        "app",
                        1,
                        "R",
                        "Check the balance, pay by card, withdraw cash, read statements.",
                    ),
                    S(
                        "pay-transfer",
                        "Pay and transfer",
                        "app",
                        1,
                        "R",
                        "Send money at home and abroad, set up regular payments.",
                    ),
                    S(
                        "get-help",
                        "Get help",
                        "phone",
                        -2,
                        "M",
                        "Something went wrong or is unclear: help centre, chat, phone, branch.",
                    ),
                    S("statements-fees", "Check statements and fees", "app", 0, "R"),
                ],
            ),
            (
                "Grow",
                [
                    S(
                        "change-products",
                        "Change my products / move house",
                        "web",
                        0,
                        description="Life events: moving, marriage, a new job, an upgrade.",
                    ),
                    S(
                        "borrow",
                        "Borrow for a big purchase",
                        "branch",
                        -1,
                        "M",
                        "Overdraft, personal loan or mortgage.",
                    ),
                    S("save-invest", "Save and invest", "app", 1),
                    S("loyalty", "Get rewarded for staying", "email", 0),
                ],
            ),
            (
                "Leave",
                [
                    S(
                        "consider-leaving",
                        "Consider leaving",
                        "web",
                        -1,
                        description="A fee rise, a bad service experience or a better offer.",
                    ),
                    S("close-account", "Close my account", "branch", -2),
                ],
            ),
        ],
        links=[
            ("get-help", "everyday-banking", LOOP, "Problem solved, back to everyday banking"),
            ("get-help", "consider-leaving", BRANCH, "Complaint not resolved"),
            ("consider-leaving", "change-products", BRANCH, "Accepts a retention offer"),
            ("hear-about-us", "open-account", SKIP, "Recommended by a friend, applies at once"),
        ],
        pain_points=[
            (
                "hear-about-us",
                "C",
                2,
                3,
                "Adverts promise a free account but monthly fees appear in the small print",
            ),
            (
                "choose-account",
                "C",
                3,
                4,
                "Hard to compare our three current accounts: features sit on different pages",
            ),
            (
                "open-account",
                "C",
                5,
                4,
                "Account opening stalls for days when the identity check needs a manual review",
            ),
            (
                "open-account",
                "E",
                4,
                4,
                "Branch staff re-key paper applications into the core banking system",
            ),
            (
                "switch-in",
                "C",
                4,
                3,
                "Customers don't trust the switching service to move every direct debit",
            ),
            (
                "everyday-banking",
                "C",
                3,
                5,
                "The app logs customers out too often and keeps asking for the passcode",
            ),
            (
                "pay-transfer",
                "C",
                3,
                3,
                "International payment fees are only shown after the transfer is confirmed",
            ),
            ("get-help", "C", 5, 5, "Average wait on the phone line exceeds 12 minutes at lunch"),
            (
                "get-help",
                "E",
                4,
                5,
                "Contact centre agents switch between seven systems to answer one question",
            ),
            ("statements-fees", "C", 3, 3, "Unexpected overdraft charges with no warning"),
            (
                "borrow",
                "C",
                4,
                2,
                "Loan decisions take up to a week and customers hear nothing in between",
            ),
            (
                "consider-leaving",
                "C",
                4,
                2,
                "No one contacts customers whose activity drops before they leave",
            ),
            (
                "close-account",
                "E",
                3,
                2,
                "Closure requests by letter get lost between branch and back office",
            ),
            (None, "E", 2, 3, "No single customer view across current accounts, cards and loans"),
        ],
        lane_items=[
            (
                INSIGHT,
                "everyday-banking",
                "Customers open the app 22 times a month, mostly to check the balance",
                "",
            ),
            (
                OPPORTUNITY,
                "consider-leaving",
                "Spot early signs of leaving (salary stops arriving) and reach out",
                "",
            ),
            (
                RESEARCH,
                None,
                "Annual relationship survey: drivers of recommendation",
                RESEARCH_URL + "relationship-survey-2024",
            ),
            (IDEA, "get-help", "Offer a call-back instead of queueing at peak times", ""),
        ],
        kpis=[
            K("Net Promoter Score", "C", "points", "H", 12, 25, source="A", weight=2),
            K("Customer churn rate", "B", "%", "L", 9.5, 7.0, step="close-account", source="A"),
            K("Products per customer", "B", "products", "H", 1.8, 2.2, source="A"),
            K(
                "Customer effort score",
                "C",
                "points (1-7)",
                "L",
                3.9,
                3.0,
                description="Survey: how easy was it to get what you needed? 1 is effortless.",
            ),
        ],
        factors=[
            ("C", "Brand trust", 3, "Trusted for safety, not for innovation."),
            (
                "C",
                "Consistency across channels",
                2,
                "App, phone and branch give different answers.",
            ),
            ("B", "Fit with strategy", 4, "Digital-first relationship banking."),
            ("B", "Cost to serve", 3, "Branch and phone still carry most servicing."),
        ],
    ),
    # ------------------------------------------------------------------ level 2: the seven
    MapSpec(
        slug="choose-current-account",
        title="Choose a current account",
        owner="olivia",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="choose-account",
        persona="young-professional",
        summary="How prospects find, compare and pick one of our current accounts.",
        review_every_days=90,
        reviewed_days_ago=35,
        created_days_ago=480,
        stages=[
            (
                "Explore",
                [
                    S("see-offer", "See a switching offer", "partner", 1),
                    S("browse-website", "Browse the accounts pages", "web", 0),
                ],
            ),
            (
                "Compare",
                [
                    S("use-comparison", "Use the account comparison tool", "web", -1),
                    S("check-fees", "Check fees and overdraft terms", "web", -1),
                    S("read-reviews", "Read reviews and ratings", "other", 0),
                    S("ask-in-branch", "Ask an adviser in branch", "branch", 1),
                ],
            ),
            ("Decide", [S("decide", "Decide to apply", "web", 1, "M")]),
        ],
        links=[
            ("use-comparison", "ask-in-branch", BRANCH, "Still unsure, wants advice"),
            ("check-fees", "browse-website", LOOP, "Fee not found, back to the accounts pages"),
        ],
        pain_points=[
            (
                "see-offer",
                "C",
                2,
                3,
                "Switching bonus conditions (minimum pay-in, two direct debits) are unclear",
            ),
            (
                "browse-website",
                "C",
                3,
                4,
                "Product pages use internal names like 'Classic Plus' without explaining them",
            ),
            ("use-comparison", "C", 3, 3, "The comparison tool does not work on phone screens"),
            (
                "use-comparison",
                "E",
                2,
                2,
                "Marketing must raise an IT ticket to change a fee in the comparison tool",
            ),
            ("check-fees", "C", 4, 4, "The fee schedule is a 14-page PDF"),
            (
                "check-fees",
                "C",
                3,
                3,
                "Overdraft interest is shown as a daily rate customers cannot compare",
            ),
            ("read-reviews", "C", 2, 2, "Old app-store reviews about outages dominate the rating"),
            ("ask-in-branch", "C", 3, 2, "Advice appointments are booked two weeks ahead"),
            (
                "ask-in-branch",
                "E",
                3,
                3,
                "Advisers cannot see what the customer already looked at online",
            ),
            ("decide", "C", 3, 3, "No way to save a half-made choice and come back later"),
        ],
        lane_items=[
            (
                INSIGHT,
                "use-comparison",
                "Six in ten applicants start on a phone; the comparison tool was built for desktop",
                "",
            ),
            (OPPORTUNITY, "check-fees", "A plain-language fee summary on every product page", ""),
            (
                RESEARCH,
                "browse-website",
                "Usability test of the accounts pages",
                RESEARCH_URL + "accounts-pages-usability",
            ),
            (IDEA, "use-comparison", "Three-question account finder", ""),
        ],
        kpis=[
            K("Visit-to-application rate", "B", "%", "H", 3.1, 4.5, source="A", weight=2),
            K(
                "Comparison tool completion",
                "C",
                "%",
                "H",
                41,
                60,
                step="use-comparison",
                source="A",
            ),
            K(
                "Time to find the fees",
                "C",
                "seconds",
                "L",
                95,
                40,
                step="check-fees",
                description="Measured in monthly guerrilla usability tests.",
            ),
        ],
        factors=[
            ("C", "Clarity of the product range", 2, "Three accounts that look alike."),
            ("B", "Competitive position", 3, "Fees in line with the market, offers weaker."),
        ],
    ),
    MapSpec(
        slug="open-an-account",
        title="Open an account",
        owner="olivia",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="open-account",
        persona="young-professional",
        summary=(
            "From starting the application in the app to the first login: identity, checks, "
            "contract, card and PIN."
        ),
        review_every_days=90,
        reviewed_days_ago=10,
        created_days_ago=500,
        stages=[
            (
                "Apply",
                [
                    S("start-application", "Start the application", "app", 1),
                    S("enter-details", "Enter personal details", "app", 0),
                ],
            ),
            (
                "Verify",
                [
                    S(
                        "verify-identity",
                        "Verify my identity",
                        "app",
                        -2,
                        "M",
                        "Scan an ID document and take a selfie; falls back to a video call or "
                        "a branch visit.",
                    ),
                    S("credit-check", "Credit and fraud checks", "other", -1),
                    S("sign-contract", "Sign the contract", "app", 0),
                ],
            ),
            (
                "Activate",
                [
                    S("receive-card", "Receive the debit card", "mail", 0),
                    S("activate-card", "Activate the card and set a PIN", "app", 1),
                    S("first-login", "First login and app set-up", "app", 2, "M"),
                ],
            ),
        ],
        links=[
            ("verify-identity", "enter-details", LOOP, "Check failed, correct the details"),
            ("start-application", "verify-identity", SKIP, "Existing customer: details prefilled"),
        ],
        pain_points=[
            (
                "start-application",
                "C",
                2,
                3,
                "The application asks for the tax ID before explaining why it is needed",
            ),
            ("enter-details", "C", 3, 4, "Address lookup fails for new-build addresses"),
            (
                "enter-details",
                "C",
                2,
                3,
                "The form times out after 10 minutes and loses everything entered",
            ),
            ("verify-identity", "C", 5, 4, "The selfie check fails in poor light and says not why"),
            (
                "verify-identity",
                "C",
                4,
                3,
                "Foreign passports without a chip always go to manual review",
            ),
            (
                "verify-identity",
                "E",
                4,
                4,
                "The manual review queue is worked through a shared mailbox",
            ),
            (
                "credit-check",
                "C",
                4,
                3,
                "Applicants with no local credit history are declined with no alternative",
            ),
            (
                "credit-check",
                "E",
                3,
                3,
                "Fraud analysts re-run checks because results are not stored with the application",
            ),
            (
                "sign-contract",
                "C",
                3,
                2,
                "The contract PDF does not open in the app on some Android phones",
            ),
            ("receive-card", "C", 4, 3, "The card takes 7 to 10 working days to arrive"),
            ("receive-card", "E", 2, 2, "Returned cards are logged by hand in a spreadsheet"),
            (
                "activate-card",
                "C",
                3,
                3,
                "The PIN letter arrives a day after the card, so the card cannot be used",
            ),
            (
                "first-login",
                "C",
                2,
                3,
                "The app asks for a passcode, fingerprint and notifications all at once",
            ),
            (
                None,
                "E",
                3,
                4,
                "The contact centre cannot see application status, so callers are told to wait",
            ),
        ],
        lane_items=[
            (
                INSIGHT,
                "verify-identity",
                "31 % of applicants who fail the selfie check never come back",
                "",
            ),
            (
                OPPORTUNITY,
                "receive-card",
                "A digital card in the wallet before the plastic arrives",
                "",
            ),
            (
                RESEARCH,
                None,
                "Onboarding drop-off funnel, last quarter",
                RESEARCH_URL + "onboarding-funnel",
            ),
            (
                RESEARCH,
                "credit-check",
                "Interviews with newcomers opening an account",
                RESEARCH_URL + "newcomer-interviews",
            ),
            (IDEA, "verify-identity", "Let customers book a branch ID check from the app", ""),
        ],
        kpis=[
            K(
                "Time to open an account",
                "B",
                "days",
                "L",
                4.2,
                1.0,
                source="A",
                weight=2,
                description="From starting the application to an active account, median.",
            ),
            K("Application completion rate", "B", "%", "H", 58, 75, source="A"),
            K(
                "Identity check pass rate (first attempt)",
                "C",
                "%",
                "H",
                71,
                90,
                step="verify-identity",
                source="A",
            ),
            K("Onboarding satisfaction (CSAT)", "C", "%", "H", 72, 85),
            K("Calls about application status", "B", "calls/month", "L", 3400, 1500),
        ],
        factors=[
            ("C", "Ease of applying", 3, "Fine until the identity check."),
            ("C", "Feeling welcome", 3, "Functional, not warm."),
            ("B", "Fit with the digital-first strategy", 4, ""),
            ("B", "Robustness of know-your-customer checks", 4, "Passed the last audit."),
        ],
    ),
    MapSpec(
        slug="pay-and-transfer",
        title="Pay and transfer",
        owner="omar",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="pay-transfer",
        persona="small-business-owner",
        summary="Sending money at home and abroad, one-off and regular.",
        review_every_days=90,
        reviewed_days_ago=30,
        created_days_ago=450,
        stages=[
            (
                "Set up",
                [
                    S(
                        "add-payee",
                        "Add a new payee",
                        "app",
                        0,
                        description="Name, IBAN and a confirmation-of-payee check.",
                    ),
                    S("set-standing-order", "Set up a standing order", "web", 0),
                ],
            ),
            (
                "Pay",
                [
                    S("make-transfer", "Make a transfer", "app", 1, "R"),
                    S("pay-abroad", "Pay someone abroad", "web", -1),
                    S(
                        "approve-payment",
                        "Approve the payment",
                        "app",
                        0,
                        "M",
                        "Strong customer authentication in the app.",
                    ),
                ],
            ),
            (
                "Confirm",
                [
                    S("check-status", "Check the payment status", "app", -1),
                    S("receive-confirmation", "Receive a confirmation", "email", 1),
                ],
            ),
        ],
        links=[
            ("make-transfer", "pay-abroad", BRANCH, "Recipient abroad"),
            ("check-status", "make-transfer", LOOP, "Payment rejected, try again"),
        ],
        pain_points=[
            (
                "add-payee",
                "C",
                3,
                4,
                "The name check warns 'no match' for businesses with trading names",
            ),
            ("add-payee", "C", 2, 3, "An IBAN cannot be copied from an invoice PDF into the app"),
            (
                "set-standing-order",
                "C",
                2,
                2,
                "Standing orders cannot be edited, only cancelled and set up again",
            ),
            ("make-transfer", "C", 3, 3, "The daily limit blocks paying a rent deposit"),
            ("make-transfer", "E", 3, 3, "Limit increases have to be approved by phone"),
            ("pay-abroad", "C", 4, 3, "Exchange rate and fee are shown only on the final screen"),
            ("pay-abroad", "C", 3, 2, "SWIFT payments take up to 4 days with no tracking"),
            (
                "approve-payment",
                "C",
                4,
                4,
                "The approval notification does not arrive and the customer is stuck",
            ),
            ("approve-payment", "E", 3, 4, "Agents cannot see why an approval failed"),
            ("check-status", "C", 3, 3, "Status 'pending' with no explanation or expected time"),
            (
                "check-status",
                "E",
                3,
                2,
                "Payment investigations are requested by e-mail to the payments team",
            ),
            (
                "receive-confirmation",
                "C",
                2,
                2,
                "The confirmation e-mail lacks a reference the payee recognises",
            ),
        ],
        lane_items=[
            (
                INSIGHT,
                "make-transfer",
                "Small business owners make 70 % of their payments between 7 and 9 am",
                "",
            ),
            (OPPORTUNITY, "pay-abroad", "Show fees and exchange rate up front", ""),
            (
                RESEARCH,
                "check-status",
                "Payment failure analysis",
                RESEARCH_URL + "payment-failures",
            ),
            (IDEA, "check-status", "A payment tracker like parcel tracking", ""),
        ],
        kpis=[
            K("Payment success rate", "B", "%", "H", 97.2, 99.0, source="A", weight=2),
            K("Payment-related calls", "B", "calls/month", "L", 5200, 3000),
            K(
                "Payment approval time",
                "C",
                "seconds",
                "L",
                45,
                15,
                step="approve-payment",
                source="A",
            ),
            K("Payment satisfaction", "C", "%", "H", 80, None),
        ],
        factors=[
            ("C", "Trust that the money arrives", 4, ""),
            ("B", "Operational cost", 2, "Manual investigations and call volume."),
        ],
    ),
    MapSpec(
        slug="use-everyday-banking",
        title="Use everyday banking",
        owner="olivia",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="everyday-banking",
        persona="young-professional",
        summary="The daily and weekly routine: log in, check, spend, manage the card.",
        review_every_days=60,
        reviewed_days_ago=15,
        created_days_ago=460,
        stages=[
            (
                "Check",
                [
                    S("log-in", "Log in to the app", "app", 0, "R"),
                    S("check-balance", "Check my balance", "app", 1, "R"),
                    S("view-transactions", "Look through transactions", "app", 0, "R"),
                ],
            ),
            (
                "Spend",
                [
                    S("pay-by-card", "Pay by card or phone", "partner", 2, "RM"),
                    S("withdraw-cash", "Withdraw cash", "other", 0),
                ],
            ),
            (
                "Manage",
                [
                    S(
                        "manage-card",
                        "Manage my card",
                        "app",
                        1,
                        description="Freeze, limits, PIN reminder, replacement.",
                    ),
                    S("set-alerts", "Set up alerts and budgets", "app", 1),
                    S("download-statement", "Download a statement", "web", -1),
                ],
            ),
        ],
        links=[
            ("view-transactions", "manage-card", BRANCH, "Suspicious payment: freeze the card"),
            ("pay-by-card", "check-balance", LOOP, "Check the balance after paying"),
        ],
        pain_points=[
            ("log-in", "C", 3, 5, "Face ID login fails after every app update"),
            ("log-in", "E", 2, 3, "Support cannot reset the app passcode without a branch visit"),
            ("check-balance", "C", 2, 4, "The balance does not include pending card payments"),
            (
                "view-transactions",
                "C",
                3,
                4,
                "Merchant names are cryptic codes such as 'PAYPAL *SP 4029357733'",
            ),
            ("view-transactions", "C", 2, 3, "Search only covers the last 90 days"),
            ("pay-by-card", "C", 5, 2, "Cards are declined abroad by the fraud rules"),
            (
                "pay-by-card",
                "E",
                3,
                2,
                "The fraud team works declined-card alerts from three different queues",
            ),
            (
                "withdraw-cash",
                "C",
                2,
                2,
                "Fewer cash machines in rural areas after branch closures",
            ),
            ("manage-card", "C", 3, 2, "Freezing the card also stops subscriptions, silently"),
            ("set-alerts", "C", 1, 2, "The low-balance alert threshold cannot be changed"),
            (
                "download-statement",
                "C",
                3,
                3,
                "Statements older than 12 months must be ordered by post",
            ),
            ("download-statement", "E", 2, 3, "Statement copies are printed and posted by hand"),
        ],
        lane_items=[
            (INSIGHT, "check-balance", "Balance checks are 58 % of all app sessions", ""),
            (OPPORTUNITY, "view-transactions", "Readable merchant names with logos", ""),
            (
                RESEARCH,
                None,
                "Diary study: a month of everyday banking",
                RESEARCH_URL + "everyday-diary-study",
            ),
            (IDEA, "check-balance", "Show 'safe to spend' instead of the raw balance", ""),
        ],
        kpis=[
            K("Monthly active app users", "B", "%", "H", 64, 75, source="A", weight=2),
            K("App store rating", "C", "stars", "H", 3.9, 4.5),
            K("Login failure rate", "C", "%", "L", 6.5, 2.0, step="log-in", source="A"),
            K(
                "Card declines that were not fraud",
                "B",
                "%",
                "L",
                1.8,
                1.0,
                step="pay-by-card",
                source="A",
            ),
        ],
        factors=[
            ("C", "Ease of daily use", 4, ""),
            ("C", "Reliability", 3, "Two outages last quarter."),
            ("B", "Digital adoption", 4, ""),
        ],
    ),
    MapSpec(
        slug="get-help",
        title="Get help",
        owner="omar",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="get-help",
        persona="retiree",
        summary="When something goes wrong or is unclear: self-service, chat, phone, branch.",
        review_every_days=60,
        reviewed_days_ago=5,
        created_days_ago=470,
        stages=[
            (
                "Notice",
                [
                    S("notice-problem", "Notice a problem", "app", -1),
                    S("search-help", "Search the help centre", "web", -1),
                ],
            ),
            (
                "Reach us",
                [
                    S("chat-assistant", "Chat with the assistant", "chat", 0),
                    S("call-contact-centre", "Call the contact centre", "phone", -2, "M"),
                    S("visit-branch", "Visit a branch", "branch", 1),
                ],
            ),
            (
                "Resolve",
                [
                    S("raise-complaint", "Raise a complaint or dispute", "web", -2),
                    S("receive-resolution", "Receive the resolution", "email", 0, "M"),
                    S("give-feedback", "Give feedback", "email", 0),
                ],
            ),
        ],
        links=[
            ("search-help", "chat-assistant", BRANCH, "Answer not found"),
            ("chat-assistant", "call-contact-centre", BRANCH, "Hand-over to a person"),
            ("call-contact-centre", "raise-complaint", BRANCH, "Escalated as a complaint"),
            ("receive-resolution", "call-contact-centre", LOOP, "Not resolved, call again"),
        ],
        pain_points=[
            (
                "notice-problem",
                "C",
                3,
                3,
                "Customers learn about outages from social media, not from us",
            ),
            ("search-help", "C", 3, 4, "Help centre search returns marketing pages first"),
            ("search-help", "C", 2, 3, "Help articles show screens of the old app"),
            ("chat-assistant", "C", 3, 4, "The chatbot loops on 'Sorry, I didn't understand that'"),
            (
                "chat-assistant",
                "E",
                3,
                3,
                "Chat hand-over loses the conversation; agents start from scratch",
            ),
            (
                "call-contact-centre",
                "C",
                5,
                5,
                "Customers repeat their story to every agent they are transferred to",
            ),
            (
                "call-contact-centre",
                "C",
                4,
                4,
                "The phone menu has nine options and no 'speak to someone' choice",
            ),
            (
                "call-contact-centre",
                "E",
                4,
                4,
                "A 6-minute handling-time target is too short for fraud cases",
            ),
            ("visit-branch", "C", 3, 2, "Branch opening hours were cut to three days a week"),
            (
                "raise-complaint",
                "C",
                4,
                3,
                "The complaint form requires the account number, which customers rarely know",
            ),
            (
                "raise-complaint",
                "E",
                4,
                3,
                "Complaints are logged in three places: CRM, a spreadsheet and e-mail",
            ),
            ("receive-resolution", "C", 4, 3, "Customers wait 8 weeks for a final response letter"),
            ("give-feedback", "C", 1, 2, "The survey arrives a week later and asks 25 questions"),
            (None, "E", 3, 4, "The agents' knowledge base lags behind product changes"),
        ],
        lane_items=[
            (
                INSIGHT,
                "call-contact-centre",
                "40 % of calls are 'where is my ...' questions the app could answer",
                "",
            ),
            (INSIGHT, None, "New agents need 9 weeks before they handle calls alone", ""),
            (OPPORTUNITY, "notice-problem", "Proactive outage notifications in the app", ""),
            (
                RESEARCH,
                "call-contact-centre",
                "Contact reason analysis, last six months",
                RESEARCH_URL + "contact-reasons",
            ),
            (IDEA, "call-contact-centre", "Call-back at a booked time", ""),
        ],
        kpis=[
            K("Call volume", "B", "calls/month", "L", 48000, 35000, source="A", weight=2),
            K("First contact resolution", "C", "%", "H", 68, 80),
            K(
                "Average wait on the phone",
                "C",
                "minutes",
                "L",
                11.5,
                4.0,
                step="call-contact-centre",
                source="A",
            ),
            K(
                "Complaints per 1,000 customers",
                "B",
                "complaints",
                "L",
                4.1,
                2.5,
                step="raise-complaint",
            ),
            K("NPS after contact", "C", "points", "H", -5, 15),
        ],
        factors=[
            ("C", "Empathy of staff", 4, "Praised in almost every survey comment."),
            ("C", "Ease of reaching a person", 2, ""),
            ("B", "Cost to serve", 2, ""),
            ("B", "Compliance with complaint-handling rules", 3, "Two late final responses."),
        ],
    ),
    MapSpec(
        slug="change-products",
        title="Change my products / move house",
        owner="omar",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="change-products",
        summary="Life events that change what a customer needs from us.",
        review_every_days=180,
        reviewed_days_ago=None,
        created_days_ago=300,
        stages=[
            (
                "Trigger",
                [
                    S(
                        "life-event",
                        "Something changes in my life",
                        "other",
                        0,
                        description="Moving house, marriage, a new job, a child.",
                    )
                ],
            ),
            (
                "Request",
                [
                    S("update-address", "Update my address", "web", -1),
                    S("upgrade-account", "Upgrade my account", "app", 1),
                    S("add-joint-holder", "Add a joint account holder", "branch", -2),
                    S("apply-overdraft", "Apply for an overdraft", "app", 0),
                ],
            ),
            ("Confirm", [S("confirm-change", "Get confirmation of the change", "email", 1)]),
        ],
        links=[
            ("life-event", "add-joint-holder", BRANCH, "Getting married or moving in together"),
            ("confirm-change", "update-address", LOOP, "Letters still go to the old address"),
        ],
        pain_points=[
            ("life-event", "C", 2, 2, "No single place to tell the bank about a life event"),
            (
                "update-address",
                "C",
                4,
                3,
                "Changing the address online needs a utility bill that many renters lack",
            ),
            (
                "update-address",
                "E",
                3,
                3,
                "Address changes don't reach the card and mortgage systems",
            ),
            ("upgrade-account", "C", 2, 2, "Upgrading changes the account number on some products"),
            (
                "add-joint-holder",
                "C",
                5,
                2,
                "Both holders must come to the branch at the same time",
            ),
            ("add-joint-holder", "E", 3, 2, "Joint account paperwork runs to 11 pages"),
            ("apply-overdraft", "C", 3, 3, "The overdraft limit decision is not explained"),
            ("apply-overdraft", "C", 2, 2, "The overdraft limit cannot be lowered in the app"),
            ("confirm-change", "C", 3, 3, "The confirmation letter goes to the old address"),
            (
                None,
                "E",
                2,
                3,
                "Product change requests are re-keyed from e-mail into the core system",
            ),
        ],
        lane_items=[
            (
                OPPORTUNITY,
                "update-address",
                "A 'moving house' checklist that updates every product at once",
                "",
            ),
            (
                RESEARCH,
                "life-event",
                "Moving-house customers: 12 interviews",
                RESEARCH_URL + "moving-house-interviews",
            ),
            (IDEA, "add-joint-holder", "Invite a joint holder from the app", ""),
        ],
        kpis=[
            K("Address changes completed online", "B", "%", "H", 55, 80, source="A"),
            K("Time to add a joint holder", "C", "days", "L", 9, 3, step="add-joint-holder"),
            K("Product upgrade rate", "B", "%", "H", 2.1, None, source="A"),
        ],
        factors=[("C", "Ease of making changes", 2, "Too many branch visits.")],
    ),
    MapSpec(
        slug="close-account",
        title="Close my account",
        owner="omar",
        status=PUBLISHED,
        parent="customer-lifecycle",
        parent_step="close-account",
        summary="Leaving us: deciding, asking, moving the money and wrapping up.",
        review_every_days=90,
        reviewed_days_ago=200,
        created_days_ago=520,
        stages=[
            (
                "Decide",
                [
                    S("decide-to-leave", "Decide to leave", "other", -1),
                    S("retention-offer", "Get a retention offer", "phone", 0),
                ],
            ),
            (
                "Request",
                [
                    S("request-closure", "Request the closure", "branch", -1, "M"),
                    S("move-balance", "Move the remaining balance", "web", 0),
                    S("cancel-payments", "Cancel direct debits and standing orders", "web", -2),
                ],
            ),
            ("Wrap up", [S("closure-letter", "Receive the closure letter", "mail", 0)]),
        ],
        links=[
            (
                "decide-to-leave",
                "request-closure",
                SKIP,
                "The switching service closes it for them",
            ),
        ],
        pain_points=[
            ("decide-to-leave", "C", 3, 2, "No exit survey to learn why customers leave"),
            ("retention-offer", "C", 2, 2, "Retention calls feel pushy"),
            ("retention-offer", "E", 2, 2, "The retention team has no authority to waive fees"),
            (
                "request-closure",
                "C",
                4,
                3,
                "An account can only be closed in a branch or by signed letter",
            ),
            (
                "request-closure",
                "E",
                3,
                3,
                "Closure requests are checked by hand for open loans and cards",
            ),
            (
                "move-balance",
                "C",
                3,
                2,
                "The final balance with accrued interest is only known after closure",
            ),
            (
                "cancel-payments",
                "C",
                4,
                3,
                "Direct debits keep bouncing after closure and incur fees",
            ),
            ("cancel-payments", "E", 2, 2, "Direct debit cancellations are keyed one by one"),
            ("closure-letter", "C", 2, 2, "The closure letter arrives three weeks later"),
            (
                None,
                "C",
                3,
                2,
                "Relatives of deceased customers are sent through the standard closure process",
            ),
        ],
        lane_items=[
            (
                INSIGHT,
                "decide-to-leave",
                "One in five leavers complained in the previous 6 months",
                "",
            ),
            (
                OPPORTUNITY,
                "request-closure",
                "Close the account in the app in under five minutes",
                "",
            ),
            (
                RESEARCH,
                "decide-to-leave",
                "Exit interviews with 15 leavers",
                RESEARCH_URL + "exit-interviews",
            ),
        ],
        kpis=[
            K("Closures per month", "B", "accounts", "L", 1900, 1500, source="A"),
            K("Time to close an account", "C", "days", "L", 12, 3),
            K("Win-back rate", "B", "%", "H", 4, 8),
        ],
        factors=[
            ("C", "A respectful goodbye", 3, ""),
            ("B", "Regulatory compliance", 4, ""),
        ],
    ),
    # ------------------------------------------------------------------ level 3: tasks
    MapSpec(
        slug="verify-my-identity",
        title="Verify my identity",
        owner="olivia",
        status=PUBLISHED,
        parent="open-an-account",
        parent_step="verify-identity",
        persona="newcomer",
        summary="The identity check inside account opening, with its video and branch fallbacks.",
        review_every_days=90,
        reviewed_days_ago=150,
        created_days_ago=400,
        stages=[
            ("Prepare", [S("choose-document", "Choose an ID document", "app", 0)]),
            (
                "Capture",
                [
                    S("scan-document", "Scan the ID document", "app", -1),
                    S("take-selfie", "Take a selfie", "app", -1),
                ],
            ),
            (
                "Fallback",
                [
                    S("video-call", "Verify on a video call", "chat", 0),
                    S("branch-check", "Verify in a branch", "branch", 1),
                ],
            ),
            (
                "Decision",
                [
                    S("await-decision", "Wait for the decision", "app", -2, "M"),
                    S("proof-of-address", "Upload proof of address", "app", -1),
                ],
            ),
        ],
        links=[
            ("take-selfie", "video-call", BRANCH, "Automated check failed"),
            ("video-call", "branch-check", BRANCH, "No video slot or poor connection"),
            ("await-decision", "scan-document", LOOP, "Document rejected, scan again"),
        ],
        pain_points=[
            (
                "choose-document",
                "C",
                3,
                3,
                "Residence permits are missing from the list of accepted documents",
            ),
            ("scan-document", "C", 4, 4, "Glare on laminated ID cards makes the scan fail"),
            ("scan-document", "C", 2, 3, "The scanner doesn't say which side to scan first"),
            ("take-selfie", "C", 4, 3, "The liveness check fails for customers wearing glasses"),
            ("take-selfie", "E", 2, 3, "The vendor dashboard shows a failure code but no reason"),
            ("video-call", "C", 3, 3, "Video-call slots only on weekdays from 9 to 5"),
            (
                "video-call",
                "E",
                3,
                3,
                "Video agents verify and then re-enter the result in the core system",
            ),
            (
                "branch-check",
                "C",
                3,
                2,
                "Branch staff don't know how to finish a digital application",
            ),
            (
                "await-decision",
                "C",
                4,
                3,
                "No status updates while a manual review takes up to 3 days",
            ),
            ("proof-of-address", "C", 4, 3, "Newcomers have no utility bill in their name yet"),
        ],
        lane_items=[
            (INSIGHT, "take-selfie", "Most selfie failures happen between 6 and 9 pm", ""),
            (
                OPPORTUNITY,
                "scan-document",
                "Read the passport chip with NFC instead of taking a photo",
                "",
            ),
            (
                RESEARCH,
                "take-selfie",
                "Vendor report: failure codes by device",
                RESEARCH_URL + "idv-failure-codes",
            ),
            (
                IDEA,
                "scan-document",
                "Live hints while scanning: 'move closer', 'avoid glare'",
                "",
            ),
        ],
        kpis=[
            K("Automated verification rate", "B", "%", "H", 71, 90, source="A"),
            K("Time to a decision", "C", "hours", "L", 20, 2, step="await-decision", source="A"),
            K("Verification drop-off", "C", "%", "L", 18, 8, source="A"),
        ],
        factors=[
            ("C", "Confidence during the check", 2, "Customers don't know whether it worked."),
            ("B", "Fraud protection", 5, ""),
        ],
    ),
    MapSpec(
        slug="scan-passport-nfc",
        title="Scan my passport with NFC",
        owner="olivia",
        status=DRAFT,
        parent="verify-my-identity",
        parent_step="scan-document",
        persona="newcomer",
        summary="Draft: reading the passport chip with the phone instead of photographing it.",
        review_every_days=90,
        reviewed_days_ago=None,
        created_days_ago=20,
        stages=[
            (
                "Scan",
                [
                    S("explain-nfc", "Learn why to scan the chip", "app", 0),
                    S("hold-phone", "Hold the phone to the passport", "app", -1),
                    S("read-chip", "Read the chip", "app", 0),
                    S("confirm-data", "Confirm the data read", "app", 1),
                ],
            )
        ],
        links=[("read-chip", "hold-phone", LOOP, "Reading interrupted, try again")],
        pain_points=[
            ("explain-nfc", "C", 2, 2, "'NFC' means nothing to most customers"),
            (
                "hold-phone",
                "C",
                3,
                4,
                "Customers don't know where the NFC antenna sits on their phone",
            ),
            ("read-chip", "C", 3, 3, "Reading breaks off if the phone moves"),
            ("read-chip", "C", 2, 2, "Older passports have no chip"),
            (None, "E", 2, 2, "The test team has no test passports"),
        ],
        lane_items=[
            (IDEA, "hold-phone", "An animation showing where to hold the phone", ""),
            (
                RESEARCH,
                None,
                "Prototype test with 8 newcomers",
                RESEARCH_URL + "nfc-prototype-test",
            ),
        ],
    ),
    MapSpec(
        slug="dispute-card-payment",
        title="Dispute a card payment",
        owner="omar",
        status=PUBLISHED,
        parent="get-help",
        parent_step="raise-complaint",
        persona="small-business-owner",
        summary="From an unknown card payment to the outcome of the chargeback.",
        review_every_days=90,
        reviewed_days_ago=45,
        created_days_ago=380,
        stages=[
            (
                "Spot",
                [
                    S("spot-transaction", "Spot an unknown transaction", "app", -2),
                    S("contact-merchant", "Try the merchant first", "other", -1),
                ],
            ),
            (
                "Claim",
                [
                    S("start-dispute", "Start a dispute in the app", "app", 0),
                    S("upload-evidence", "Send evidence", "app", -1),
                    S("temporary-credit", "Get a temporary credit", "app", 1),
                ],
            ),
            ("Outcome", [S("dispute-decision", "Hear the outcome", "email", 0, "M")]),
        ],
        links=[
            ("spot-transaction", "start-dispute", SKIP, "Fraud: skip the merchant"),
            ("dispute-decision", "upload-evidence", LOOP, "More evidence requested"),
        ],
        pain_points=[
            ("spot-transaction", "C", 3, 4, "A subscription renewal is hard to tell from fraud"),
            (
                "contact-merchant",
                "C",
                2,
                3,
                "Customers are told to contact the merchant but not how",
            ),
            ("start-dispute", "C", 4, 3, "A dispute cannot be started on a pending transaction"),
            (
                "start-dispute",
                "E",
                3,
                3,
                "Chargeback reason codes are picked by hand, often wrongly",
            ),
            ("upload-evidence", "C", 3, 3, "Evidence upload accepts only PDF files"),
            (
                "upload-evidence",
                "E",
                3,
                2,
                "Evidence arrives by e-mail and is attached to the case by hand",
            ),
            (
                "temporary-credit",
                "C",
                3,
                2,
                "The temporary credit is reversed without warning when a dispute is lost",
            ),
            ("dispute-decision", "C", 4, 3, "Disputes take up to 90 days with no updates"),
            ("dispute-decision", "E", 2, 3, "Card-scheme deadlines are tracked in a spreadsheet"),
        ],
        lane_items=[
            (INSIGHT, "spot-transaction", "Half of all disputes are forgotten subscriptions", ""),
            (
                OPPORTUNITY,
                "spot-transaction",
                "Show the merchant's logo and contact details on every transaction",
                "",
            ),
            (
                IDEA,
                "spot-transaction",
                "A cancel-subscription button next to recurring payments",
                "",
            ),
        ],
        kpis=[
            K("Dispute cycle time", "C", "days", "L", 38, 14),
            K("Chargeback recovery rate", "B", "%", "H", 62, 75),
        ],
        factors=[
            ("C", "Feeling protected", 3, ""),
            ("B", "Card-scheme compliance", 3, "One deadline missed last quarter."),
        ],
    ),
    MapSpec(
        slug="set-up-standing-order",
        title="Set up a standing order",
        owner="omar",
        status=DRAFT,
        parent="pay-and-transfer",
        parent_step="set-standing-order",
        persona="retiree",
        summary="Draft: regular payments for rent, savings and family.",
        review_every_days=90,
        reviewed_days_ago=None,
        created_days_ago=30,
        stages=[
            (
                "Set up",
                [
                    S("choose-payee", "Choose the payee", "app", 0),
                    S("set-amount-dates", "Set amount, frequency and dates", "app", -1),
                    S("approve-order", "Approve the standing order", "app", 0),
                ],
            ),
            (
                "Run",
                [
                    S("first-payment", "Payments go out", "other", 1, "R"),
                    S("edit-order", "Change or cancel the order", "app", -1),
                ],
            ),
        ],
        links=[("edit-order", "set-amount-dates", LOOP, "Change the amount or the date")],
        pain_points=[
            (
                "choose-payee",
                "C",
                2,
                2,
                "Standing orders to savings accounts at other banks are not possible",
            ),
            (
                "set-amount-dates",
                "C",
                3,
                3,
                "An end date is required although most orders run indefinitely",
            ),
            (
                "set-amount-dates",
                "C",
                2,
                3,
                "A payment date on a weekend moves without notice",
            ),
            (
                "approve-order",
                "C",
                2,
                2,
                "The approval screen doesn't repeat the first payment date",
            ),
            (
                "first-payment",
                "C",
                3,
                2,
                "No notification when a standing order fails for lack of funds",
            ),
            ("edit-order", "C", 3, 3, "A new amount takes effect only after the next payment"),
            ("edit-order", "E", 2, 2, "Branch staff cannot see standing orders set up in the app"),
        ],
        lane_items=[
            (
                INSIGHT,
                "choose-payee",
                "Retirees set up most of their standing orders in a branch",
                "",
            ),
            (
                IDEA,
                "choose-payee",
                "Suggest a standing order for rent paid by hand every month",
                "",
            ),
        ],
        kpis=[
            K("Standing orders set up digitally", "B", "%", "H", 48, 70, source="A"),
            K("Failed standing orders", "C", "per 1,000", "L", 6.3, None, step="first-payment"),
        ],
    ),
    MapSpec(
        slug="report-lost-card",
        title="Report a lost or stolen card",
        owner="olivia",
        status=DRAFT,
        parent="use-everyday-banking",
        parent_step="manage-card",
        persona="retiree",
        summary="Draft: from a missing card to a working replacement.",
        review_every_days=90,
        reviewed_days_ago=None,
        created_days_ago=25,
        stages=[
            ("Notice", [S("miss-card", "Notice the card is missing", "other", -2)]),
            (
                "Block",
                [
                    S("freeze-card", "Freeze the card in the app", "app", 1, "M"),
                    S("report-stolen", "Report it stolen", "phone", -1),
                ],
            ),
            (
                "Replace",
                [
                    S("order-replacement", "Order a replacement", "app", 0),
                    S("receive-new-card", "Receive the new card", "mail", 0),
                    S("update-card-details", "Update card details with merchants", "web", -2),
                ],
            ),
        ],
        links=[
            ("freeze-card", "order-replacement", BRANCH, "Card not found after 24 hours"),
            ("freeze-card", "report-stolen", BRANCH, "Unknown payments seen"),
        ],
        pain_points=[
            ("miss-card", "C", 3, 2, "Customers without the app must call a premium-rate number"),
            ("freeze-card", "C", 3, 2, "Freezing doesn't stop payments already authorised"),
            ("report-stolen", "C", 4, 2, "The stolen-card line has long waits at weekends"),
            (
                "report-stolen",
                "E",
                3,
                2,
                "Agents must fill in a separate form for the police report reference",
            ),
            (
                "order-replacement",
                "C",
                3,
                3,
                "The replacement card has a new number, breaking every subscription",
            ),
            (
                "receive-new-card",
                "C",
                4,
                3,
                "A replacement takes 5 working days, with no cash in the meantime",
            ),
            (
                "update-card-details",
                "C",
                3,
                4,
                "Customers must update the card at every shop and subscription themselves",
            ),
            (None, "E", 2, 2, "Card reissue costs are charged to the branch's budget"),
        ],
        lane_items=[
            (OPPORTUNITY, "receive-new-card", "An instant digital card after a loss", ""),
            (IDEA, "order-replacement", "Keep the card number when replacing a lost card", ""),
            (
                RESEARCH,
                "report-stolen",
                "Review of 50 card-loss call recordings",
                RESEARCH_URL + "card-loss-calls",
            ),
        ],
        kpis=[
            K("Replacement card delivery time", "C", "days", "L", 5, 2, step="receive-new-card"),
            K("Losses reported in the app", "B", "%", "H", 35, 60, source="A"),
        ],
        factors=[("C", "Feeling safe after a loss", 3, "")],
    ),
    MapSpec(
        slug="apply-for-overdraft",
        title="Apply for an overdraft",
        owner="omar",
        status=PUBLISHED,
        parent="change-products",
        parent_step="apply-overdraft",
        persona="young-professional",
        summary="Asking for an arranged overdraft, the decision and living with it.",
        review_every_days=120,
        reviewed_days_ago=60,
        created_days_ago=350,
        stages=[
            (
                "Apply",
                [
                    S("check-eligibility", "Check if I'm eligible", "web", 0),
                    S("choose-limit", "Choose a limit", "app", 0),
                    S("submit-application", "Submit the application", "app", 0),
                ],
            ),
            (
                "Decision",
                [
                    S("affordability-check", "Affordability check", "other", -1),
                    S("receive-decision", "Receive the decision", "app", -1, "M"),
                ],
            ),
            ("Use", [S("use-overdraft", "Use the overdraft", "app", 0, "R")]),
        ],
        links=[("receive-decision", "choose-limit", LOOP, "Lower limit offered, choose again")],
        pain_points=[
            (
                "check-eligibility",
                "C",
                2,
                3,
                "The eligibility checker's 'maybe' is read as a 'yes'",
            ),
            ("choose-limit", "C", 3, 3, "The monthly cost of a limit is not shown in euros"),
            (
                "submit-application",
                "C",
                2,
                2,
                "Income must be typed in although the salary is paid into the account",
            ),
            (
                "affordability-check",
                "E",
                3,
                3,
                "Underwriters ask for payslips already visible in the transactions",
            ),
            ("affordability-check", "E", 2, 2, "Decision rules differ between app and branch"),
            ("receive-decision", "C", 4, 3, "Declines come with no reason and no next step"),
            ("use-overdraft", "C", 4, 3, "No warning before going into the overdraft"),
            ("use-overdraft", "C", 3, 2, "Overdraft interest is charged with no breakdown"),
        ],
        lane_items=[
            (INSIGHT, "receive-decision", "Most declined applicants ask again within a month", ""),
            (OPPORTUNITY, "affordability-check", "Use account data for instant decisions", ""),
            (
                RESEARCH,
                "affordability-check",
                "Affordability rule review with Risk",
                RESEARCH_URL + "affordability-rules",
            ),
        ],
        kpis=[
            K("Instant decision rate", "B", "%", "H", 35, 70, source="A"),
            K("Overdraft complaints", "C", "per month", "L", 120, 60),
        ],
        factors=[
            ("C", "Fairness of decisions", 3, ""),
            ("B", "Credit risk control", 4, ""),
        ],
    ),
    MapSpec(
        slug="order-chequebook",
        title="Order a chequebook",
        owner="olivia",
        status=ARCHIVED,
        parent="use-everyday-banking",
        parent_step="withdraw-cash",
        persona="retiree",
        summary="Archived: chequebooks were retired in favour of instant transfers.",
        review_every_days=365,
        reviewed_days_ago=400,
        created_days_ago=900,
        stages=[
            (
                "Order",
                [
                    S("request-chequebook", "Request a chequebook", "branch", 0),
                    S("confirm-address", "Confirm the delivery address", "phone", 0),
                ],
            ),
            ("Receive", [S("receive-chequebook", "Receive the chequebook", "mail", 0)]),
        ],
        pain_points=[
            ("request-chequebook", "C", 2, 1, "Chequebooks can only be ordered in a branch"),
            ("confirm-address", "E", 2, 1, "Orders are faxed to the printing supplier"),
            ("receive-chequebook", "C", 2, 1, "Delivery takes two weeks"),
            (None, "E", 1, 1, "Cheque clearing depends on one person close to retirement"),
            (None, "C", 1, 1, "Many shops no longer accept cheques"),
        ],
    ),
]


# ------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    status: str
    owner: str
    summary: str
    reach: int
    impact: int
    confidence: int
    effort: float
    cost: int | None = None
    start: int | None = None  # days from today
    end: int | None = None
    steps: tuple[str, ...] = ()  # "map-slug:step-key"
    maps: tuple[str, ...] = ()  # extra maps besides those of the steps
    outcome: str = ""


P = ProjectSpec
IDEA_S = CXProject.Status.IDEA
PLANNED = CXProject.Status.PLANNED
ONGOING = CXProject.Status.ONGOING
DONE = CXProject.Status.DONE
CANCELLED = CXProject.Status.CANCELLED

PROJECTS: list[ProjectSpec] = [
    # The first two are active and touch the same step in overlapping date ranges, on
    # purpose: the portfolio's overlap detection should flag them.
    P(
        "Selfie check with live guidance",
        ONGOING,
        "olivia",
        "Live hints while scanning and taking the selfie to lift first-attempt pass rates.",
        18000,
        4,
        80,
        14,
        120000,
        start=-75,
        end=45,
        steps=(
            "open-an-account:verify-identity",
            "verify-my-identity:scan-document",
            "verify-my-identity:take-selfie",
        ),
    ),
    P(
        "Book a branch ID check from the app",
        PLANNED,
        "olivia",
        "When the automated check fails, offer a branch appointment instead of a dead end.",
        4000,
        3,
        60,
        8,
        45000,
        start=20,
        end=120,
        steps=("open-an-account:verify-identity", "verify-my-identity:branch-check"),
    ),
    P(
        "NFC passport reading",
        IDEA_S,
        "olivia",
        "Read the passport chip instead of photographing the data page.",
        9000,
        4,
        40,
        20,
        steps=("verify-my-identity:scan-document", "scan-passport-nfc:read-chip"),
    ),
    P(
        "Digital card in the wallet on day one",
        ONGOING,
        "olivia",
        "Add the new card to Apple Pay and Google Pay as soon as the account is open.",
        25000,
        4,
        70,
        18,
        210000,
        start=-40,
        end=80,
        steps=(
            "open-an-account:receive-card",
            "open-an-account:activate-card",
            "report-lost-card:receive-new-card",
        ),
    ),
    P(
        "PIN in the app instead of by letter",
        DONE,
        "olivia",
        "Show the PIN in the app behind biometric login.",
        25000,
        3,
        90,
        6,
        30000,
        start=-300,
        end=-180,
        steps=("open-an-account:activate-card",),
        outcome="PIN letters stopped; calls about missing PINs fell by 64 %.",
    ),
    P(
        "Save and resume the application",
        DONE,
        "olivia",
        "Keep a half-finished application for 30 days.",
        12000,
        3,
        80,
        5,
        18000,
        start=-260,
        end=-170,
        steps=("open-an-account:enter-details",),
        outcome="Completion rate up from 52 % to 58 %; time-outs no longer lose data.",
    ),
    P(
        "Address lookup for new-build homes",
        CANCELLED,
        "olivia",
        "Add new-build addresses to the lookup before the postal file has them.",
        1500,
        2,
        50,
        4,
        start=-200,
        end=-150,
        steps=("open-an-account:enter-details",),
        outcome="Cancelled: the postal address file now includes new builds within a week.",
    ),
    P(
        "Three-question account finder",
        PLANNED,
        "olivia",
        "Replace the comparison table with three questions and one recommendation.",
        30000,
        3,
        60,
        7,
        40000,
        start=30,
        end=110,
        steps=("choose-current-account:use-comparison", "choose-current-account:browse-website"),
    ),
    P(
        "Plain-language fee summary",
        DONE,
        "olivia",
        "One page per account with every fee in euros.",
        60000,
        3,
        85,
        3,
        12000,
        start=-220,
        end=-160,
        steps=("choose-current-account:check-fees", "customer-lifecycle:statements-fees"),
        outcome="Summaries live on every product page; 'where are the fees' chats down 40 %.",
    ),
    P(
        "Mobile-friendly comparison tool",
        IDEA_S,
        "olivia",
        "Rebuild the comparison tool for small screens.",
        35000,
        2,
        50,
        6,
        steps=("choose-current-account:use-comparison",),
    ),
    P(
        "Readable merchant names with logos",
        ONGOING,
        "olivia",
        "Enrich card transactions with clean merchant names, logos and contact details.",
        80000,
        3,
        75,
        10,
        95000,
        start=-50,
        end=60,
        steps=("use-everyday-banking:view-transactions", "dispute-card-payment:spot-transaction"),
    ),
    P(
        "Stable Face ID login",
        DONE,
        "olivia",
        "Keep biometric login enabled across app updates.",
        80000,
        4,
        90,
        4,
        20000,
        start=-150,
        end=-90,
        steps=("use-everyday-banking:log-in",),
        outcome="Login failure rate down from 6.5 % to 3.1 % within two releases.",
    ),
    P(
        "Safe-to-spend balance",
        IDEA_S,
        "olivia",
        "Show what is left after upcoming bills instead of the raw balance.",
        50000,
        2,
        30,
        12,
        steps=("use-everyday-banking:check-balance",),
    ),
    P(
        "Travel-aware card fraud rules",
        PLANNED,
        "omar",
        "Use the phone's location and travel bookings to avoid declining genuine payments.",
        20000,
        4,
        70,
        9,
        60000,
        start=15,
        end=100,
        steps=("use-everyday-banking:pay-by-card",),
    ),
    P(
        "Seven years of statements online",
        CANCELLED,
        "olivia",
        "Make every statement of the last seven years downloadable.",
        3000,
        2,
        60,
        15,
        start=-120,
        end=-100,
        steps=("use-everyday-banking:download-statement",),
        outcome="Cancelled: archive costs outweighed demand; paper copies are now free instead.",
    ),
    P(
        "Fees and exchange rate up front",
        ONGOING,
        "omar",
        "Show the fee, rate and amount received on the first screen of a foreign payment.",
        15000,
        4,
        80,
        6,
        35000,
        start=-30,
        end=60,
        steps=("pay-and-transfer:pay-abroad", "customer-lifecycle:pay-transfer"),
    ),
    P(
        "Payment tracker",
        PLANNED,
        "omar",
        "Step-by-step tracking of every outgoing payment, like a parcel.",
        40000,
        3,
        50,
        16,
        130000,
        start=40,
        end=160,
        steps=("pay-and-transfer:check-status", "pay-and-transfer:pay-abroad"),
    ),
    P(
        "Reliable approval notifications",
        ONGOING,
        "omar",
        "Fall back to in-app approval when the push notification does not arrive.",
        70000,
        5,
        85,
        12,
        80000,
        start=-90,
        end=20,
        steps=("pay-and-transfer:approve-payment",),
    ),
    P(
        "Editable standing orders",
        IDEA_S,
        "omar",
        "Change the amount and date of a standing order without cancelling it.",
        8000,
        2,
        60,
        5,
        steps=("set-up-standing-order:edit-order", "pay-and-transfer:set-standing-order"),
    ),
    P(
        "Name check for trading names",
        DONE,
        "omar",
        "Match business payees on their trading names as well as their legal names.",
        6000,
        3,
        85,
        5,
        25000,
        start=-180,
        end=-120,
        steps=("pay-and-transfer:add-payee",),
        outcome="False 'no match' warnings for business payees down 70 %.",
    ),
    P(
        "Call-back at a booked time",
        ONGOING,
        "omar",
        "Let callers book a call-back slot instead of waiting in the queue.",
        45000,
        4,
        75,
        10,
        70000,
        start=-60,
        end=30,
        steps=("get-help:call-contact-centre", "customer-lifecycle:get-help"),
    ),
    P(
        "One agent desktop",
        PLANNED,
        "omar",
        "Replace the seven systems agents use with one customer view.",
        48000,
        5,
        60,
        60,
        850000,
        start=60,
        end=300,
        steps=("get-help:call-contact-centre", "get-help:chat-assistant"),
    ),
    P(
        "Chatbot hand-over keeps the conversation",
        DONE,
        "omar",
        "Pass the chat transcript to the agent who takes over.",
        30000,
        3,
        80,
        6,
        28000,
        start=-240,
        end=-150,
        steps=("get-help:chat-assistant",),
        outcome="Agents see the transcript; handling time for hand-overs down 90 seconds.",
    ),
    P(
        "Proactive outage notifications",
        IDEA_S,
        "omar",
        "Tell customers in the app about outages before they notice them.",
        80000,
        3,
        50,
        4,
        steps=("get-help:notice-problem",),
    ),
    P(
        "Complaints in one system",
        ONGOING,
        "omar",
        "Log, track and answer every complaint in the CRM.",
        5000,
        4,
        80,
        20,
        150000,
        start=-100,
        end=50,
        steps=("get-help:raise-complaint", "get-help:receive-resolution"),
    ),
    P(
        "Dispute pending card payments",
        PLANNED,
        "omar",
        "Let customers flag a payment as soon as it appears, even while pending.",
        3500,
        3,
        70,
        8,
        start=10,
        end=90,
        steps=("dispute-card-payment:start-dispute", "dispute-card-payment:dispute-decision"),
    ),
    P(
        "Moving-house checklist",
        IDEA_S,
        "omar",
        "One address change that updates every product, with a checklist for the rest.",
        6000,
        3,
        40,
        9,
        steps=("change-products:update-address", "change-products:confirm-change"),
    ),
    P(
        "Invite a joint holder in the app",
        PLANNED,
        "omar",
        "Open a joint account by inviting the second holder from the app.",
        2500,
        4,
        60,
        12,
        90000,
        start=45,
        end=140,
        steps=("change-products:add-joint-holder",),
    ),
    P(
        "Close the account in the app",
        ONGOING,
        "omar",
        "Self-service closure with automatic checks for open loans and cards.",
        5500,
        3,
        70,
        11,
        65000,
        start=-20,
        end=100,
        steps=("close-account:request-closure", "close-account:cancel-payments"),
    ),
    P(
        "Bereavement support service",
        DONE,
        "leader",
        "A dedicated team and a single form for relatives of deceased customers.",
        800,
        5,
        90,
        8,
        40000,
        start=-365,
        end=-200,
        steps=("close-account:request-closure",),
        maps=("customer-lifecycle",),
        outcome="Complaints from bereaved families down from 14 to 2 a quarter.",
    ),
    P(
        "Early-warning churn model",
        ONGOING,
        "leader",
        "Predict leavers from account activity and hand them to the retention team.",
        12000,
        4,
        50,
        24,
        180000,
        start=-45,
        end=120,
        steps=("customer-lifecycle:consider-leaving", "close-account:decide-to-leave"),
    ),
    P(
        "Instant overdraft decisions",
        DONE,
        "omar",
        "Decide overdraft applications from account data, the same way in app and branch.",
        9000,
        4,
        75,
        14,
        110000,
        start=-300,
        end=-200,
        steps=("apply-for-overdraft:affordability-check", "apply-for-overdraft:receive-decision"),
        outcome="55 % of applications decided instantly (target was 70 %); rules aligned.",
    ),
    P(
        "Low-balance warning before the overdraft",
        CANCELLED,
        "omar",
        "Warn customers the day before a payment would take them into the overdraft.",
        20000,
        3,
        60,
        6,
        start=-90,
        end=-60,
        steps=("apply-for-overdraft:use-overdraft", "customer-lifecycle:statements-fees"),
        outcome="Cancelled: merged into the safe-to-spend balance idea to avoid two alert tools.",
    ),
    P(
        "Journey analytics platform",
        CANCELLED,
        "leader",
        "Buy a journey analytics platform for the whole lifecycle.",
        100000,
        3,
        40,
        40,
        400000,
        start=-400,
        end=-330,
        maps=("customer-lifecycle",),
        outcome="Cancelled after vendor selection; the existing event pipeline feeds JourneyHub.",
    ),
]


# ---------------------------------------------------------------------- the seeding


def _rng(*parts: object) -> random.Random:
    """A generator seeded from the fixed seed and the object's natural key."""
    return random.Random(":".join([SEED, *map(str, parts)]))


def _evidence(*parts: object, strong: bool = False) -> str:
    weights = [10, 15, 40, 35] if strong else [30, 30, 28, 12]
    choices = [Evidence.ASSUMPTION, Evidence.ANECDOTAL, Evidence.RESEARCHED, Evidence.MEASURED]
    return _rng("evidence", *parts).choices(choices, weights)[0]


def _at(today: date, days_ago: int, hour: int = 10) -> datetime:
    """A day-granular moment, so re-running on the same day writes the same value."""
    return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(hour)))


def month_starts(today: date, months: int = MEASUREMENT_MONTHS) -> list[date]:
    """The first day of each of the last ``months`` months, oldest first (this month last)."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def _measurement_values(slug: str, spec: KPISpec, count: int) -> list[float]:
    """A plausible monthly series: a drift from the baseline towards (or away from) the
    target, with noise. Deterministic for a given map, KPI and series length."""
    rng = _rng("measurements", slug, spec.name)
    baseline = float(spec.baseline if spec.baseline is not None else 50.0)
    if spec.target is not None:
        goal = float(spec.target)
        progress = rng.uniform(-0.3, 1.05)  # some KPIs get worse, a few reach the target
    else:
        goal = baseline * (1 + rng.uniform(-0.08, 0.12))
        progress = 1.0
    spread = abs(goal - baseline) or abs(baseline) * 0.05 or 1.0
    low = 0.0 if baseline >= 0 else -100.0
    high = 100.0 if spec.unit == "%" else None
    digits = 0 if abs(baseline) >= 100 else (1 if abs(baseline) >= 10 else 2)
    values = []
    for i in range(count):
        share = i / (count - 1) if count > 1 else 1.0
        value = baseline + (goal - baseline) * progress * share + rng.gauss(0, spread * 0.08)
        value = max(low, value)
        if high is not None:
            value = min(high, value)
        values.append(round(value, digits))
    return values


class Seeder:
    """Writes demo rows by natural key, touching only what is missing or different."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.stats: dict[str, Counter[str]] = defaultdict(Counter)

    # -- generic helpers

    def _label(self, model: type[models.Model]) -> str:
        return str(model._meta.verbose_name_plural)

    @staticmethod
    def _differs(obj: models.Model, name: str, value: Any) -> bool:
        field_ = obj._meta.get_field(name)
        if field_.is_relation and field_.many_to_one:
            current = getattr(obj, field_.attname)
            wanted = value.pk if value is not None else None
            return current != wanted
        return getattr(obj, name) != value

    def upsert(
        self,
        model: type[models.Model],
        lookup: dict[str, Any],
        values: dict[str, Any],
        *,
        create_only: dict[str, Any] | None = None,
        on_create: Callable[[Any], None] | None = None,
        clean: bool = True,
        by: Any = None,
    ) -> Any:
        obj = model._default_manager.filter(**lookup).order_by("pk").first()
        label = self._label(model)
        if obj is None:
            obj = model(**lookup, **values, **(create_only or {}))
            if on_create is not None:
                on_create(obj)
            action = "created"
        else:
            changed = [name for name, value in values.items() if self._differs(obj, name, value)]
            if not changed:
                self.stats[label]["unchanged"] += 1
                return obj
            for name in changed:
                setattr(obj, name, values[name])
            action = "updated"
        if clean:
            obj.full_clean()
        if by is not None:
            obj._history_user = by  # django-simple-history attributes the change
        obj.save()
        self.stats[label][action] += 1
        return obj

    def set_m2m(self, obj: models.Model, name: str, wanted: Iterable[models.Model]) -> None:
        manager = getattr(obj, name)
        wanted = list(wanted)
        if set(manager.values_list("pk", flat=True)) != {o.pk for o in wanted}:
            manager.set(wanted)

    # -- people

    def seed_people(self) -> dict[str, Any]:
        groups = {
            name: self.upsert(Group, {"name": name}, {}, clean=False)
            for name in (leadership_group(), DIGITAL_TEAM, SERVICING_TEAM)
        }
        User = get_user_model()
        users = {}
        for spec in user_specs():
            user = self.upsert(
                User,
                {"username": spec.username},
                {
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "email": spec.email,
                    "is_staff": spec.is_staff,
                    "is_superuser": spec.is_superuser,
                    "is_active": True,
                },
                on_create=lambda u: u.set_password(PASSWORD),
                clean=False,
            )
            self.set_m2m(user, "groups", [groups[name] for name in spec.groups])
            users[spec.username] = user
        self.groups = groups
        self.users = users
        return users

    def seed_personas(self) -> dict[str, Persona]:
        self.personas = {
            slug: self.upsert(Persona, {"slug": slug}, {"name": name, "description": description})
            for slug, name, description in PERSONAS
        }
        return self.personas

    # -- maps

    def seed_maps(self) -> None:
        self.maps: dict[str, JourneyMap] = {}
        self.steps: dict[tuple[str, str], Step] = {}
        self.pain_points_by_step: dict[int, list[PainPoint]] = defaultdict(list)
        self.kpis: list[tuple[str, KPISpec, KPI]] = []
        for spec in MAPS:
            self.seed_map(spec)

    def _review_dates(self, spec: MapSpec) -> list[tuple[str, datetime]]:
        """The demo reviews of a map, newest first."""
        if spec.reviewed_days_ago is None:
            return []
        latest = spec.reviewed_days_ago
        earlier = latest + spec.review_every_days - 3
        reviews = [
            (
                "Walked through the map with the team; pain points and KPIs updated.",
                _at(self.today, latest, 11),
            )
        ]
        if earlier < spec.created_days_ago:
            reviews.append(("First review after the research round.", _at(self.today, earlier, 15)))
        return reviews

    def seed_map(self, spec: MapSpec) -> JourneyMap:
        owner = self.users[spec.owner]
        team_name = team_of(spec.owner)
        reviews = self._review_dates(spec)
        journey = self.upsert(
            JourneyMap,
            {"slug": spec.slug},
            {
                "title": spec.title,
                "summary": spec.summary,
                "parent": self.maps[spec.parent] if spec.parent else None,
                "parent_step": (
                    self.steps[(spec.parent, spec.parent_step)] if spec.parent_step else None
                ),
                "persona": self.personas[spec.persona] if spec.persona else None,
                "status": spec.status,
                "owner": owner,
                "team": self.groups[team_name] if team_name else None,
                "review_every_days": spec.review_every_days,
                "last_reviewed_at": reviews[0][1] if reviews else None,
            },
            create_only={"created_at": _at(self.today, spec.created_days_ago, 9)},
            by=owner,
        )
        self.maps[spec.slug] = journey

        position = 0
        for stage_position, (stage_name, step_specs) in enumerate(spec.stages, start=1):
            stage = self.upsert(
                Stage,
                {"map": journey, "position": stage_position},
                {"name": stage_name},
                by=owner,
            )
            for step_spec in step_specs:
                position += 1
                self.steps[(spec.slug, step_spec.key)] = self.upsert(
                    Step,
                    {"map": journey, "key": step_spec.key},
                    {
                        "stage": stage,
                        "name": step_spec.name,
                        "description": step_spec.description,
                        "position": position,
                        "channel": step_spec.channel,
                        "emotion": step_spec.emotion,
                        "is_recurring": "R" in step_spec.flags,
                        "is_moment_of_truth": "M" in step_spec.flags,
                        "evidence": _evidence(
                            spec.slug, step_spec.key, strong="M" in step_spec.flags
                        ),
                    },
                    by=owner,
                )

        for from_key, to_key, kind, label in spec.links:
            self.upsert(
                StepLink,
                {
                    "from_step": self.steps[(spec.slug, from_key)],
                    "to_step": self.steps[(spec.slug, to_key)],
                },
                {"kind": kind, "label": label},
                by=owner,
            )

        for item_position, (step_key, kind, severity, frequency, title) in enumerate(
            spec.pain_points, start=1
        ):
            step = self.steps[(spec.slug, step_key)] if step_key else None
            pain_point = self.upsert(
                PainPoint,
                {"map": journey, "title": title},
                {
                    "step": step,
                    "kind": PainPoint.Kind.CUSTOMER if kind == "C" else PainPoint.Kind.EMPLOYEE,
                    "severity": severity,
                    "frequency": frequency,
                    "evidence": _evidence(spec.slug, title, strong=severity >= 4),
                    "position": item_position,
                },
                by=owner,
            )
            if step is not None:
                self.pain_points_by_step[step.pk].append(pain_point)

        for item_position, (kind, step_key, title, url) in enumerate(spec.lane_items, start=1):
            self.upsert(
                LaneItem,
                {"map": journey, "title": title},
                {
                    "kind": kind,
                    "step": self.steps[(spec.slug, step_key)] if step_key else None,
                    "url": url,
                    "evidence": (
                        Evidence.RESEARCHED if kind == RESEARCH else _evidence(spec.slug, title)
                    ),
                    "position": item_position,
                },
                by=owner,
            )

        for kpi_spec in spec.kpis:
            kpi = self.upsert(
                KPI,
                {"map": journey, "name": kpi_spec.name},
                {
                    "step": self.steps[(spec.slug, kpi_spec.step)] if kpi_spec.step else None,
                    "description": kpi_spec.description,
                    "unit": kpi_spec.unit,
                    "direction": (
                        KPI.Direction.HIGHER if kpi_spec.direction == "H" else KPI.Direction.LOWER
                    ),
                    "baseline": kpi_spec.baseline,
                    "target": kpi_spec.target,
                    "perspective": _perspective(kpi_spec.perspective),
                    "source": KPI.Source.ANALYTICS if kpi_spec.source == "A" else KPI.Source.MANUAL,
                    "weight": float(kpi_spec.weight),
                },
                by=owner,
            )
            self.kpis.append((spec.slug, kpi_spec, kpi))

        for perspective, name, rating, note in spec.factors:
            self.upsert(
                QualitativeFactor,
                {"map": journey, "name": name},
                {
                    "perspective": _perspective(perspective),
                    "rating": rating,
                    "note": note,
                    "rated_by": owner,
                    "rated_at": _at(self.today, (spec.reviewed_days_ago or 0) + 1, 14),
                },
                by=owner,
            )

        Review = apps.get_model("governance", "Review")  # maps does not import governance
        for note, reviewed_at in reviews:
            self.upsert(
                Review,
                {"map": journey, "note": note},
                {"reviewed_by": owner, "reviewed_at": reviewed_at},
            )
        return journey

    # -- measurements

    def seed_measurements(self) -> None:
        window = month_starts(self.today)
        kpi_ids = [kpi.pk for _, _, kpi in self.kpis]
        existing = {(m.kpi_id, m.date): m for m in Measurement.objects.filter(kpi_id__in=kpi_ids)}
        label = self._label(Measurement)
        to_write = []
        for slug, spec, kpi in self.kpis:
            for day, value in zip(
                window, _measurement_values(slug, spec, len(window)), strict=True
            ):
                current = existing.get((kpi.pk, day))
                if current is None or current.value != value:
                    to_write.append(Measurement(kpi=kpi, date=day, value=value))
                    self.stats[label]["created" if current is None else "updated"] += 1
                else:
                    self.stats[label]["unchanged"] += 1
        if to_write:
            Measurement.objects.bulk_create(
                to_write,
                update_conflicts=True,
                unique_fields=["kpi", "date"],
                update_fields=["value"],
            )
        # The window slides with the calendar: drop the demo's own monthly points that
        # fell out of it, so every demo KPI keeps exactly one year of history.
        in_window = set(window)
        stale = [m.pk for (_, day), m in existing.items() if day.day == 1 and day not in in_window]
        if stale:
            Measurement.objects.filter(pk__in=stale).delete()
            self.stats[label]["deleted"] += len(stale)

    # -- projects

    def seed_projects(self) -> None:
        maps_by_pk = {journey.pk: journey for journey in self.maps.values()}
        for spec in PROJECTS:
            steps = [self.steps[tuple(ref.split(":", 1))] for ref in spec.steps]
            maps: dict[int, JourneyMap] = {}
            for slug in spec.maps:
                maps.setdefault(self.maps[slug].pk, self.maps[slug])
            for step in steps:
                maps.setdefault(step.map_id, maps_by_pk[step.map_id])
            pain_points = [pp for step in steps for pp in self.pain_points_by_step[step.pk]]
            owner = self.users[spec.owner]
            team_name = team_of(spec.owner)
            project = self.upsert(
                CXProject,
                {"title": spec.title},
                {
                    "summary": spec.summary,
                    "status": spec.status,
                    "owner": owner,
                    "team": self.groups[team_name] if team_name else None,
                    "start_date": self._day(spec.start),
                    "end_date": self._day(spec.end),
                    "reach": spec.reach,
                    "impact": spec.impact,
                    "confidence": spec.confidence,
                    "effort": float(spec.effort),
                    "cost": Decimal(spec.cost).quantize(Decimal("0.01"))
                    if spec.cost is not None
                    else None,
                    "outcome": spec.outcome,
                },
                by=owner,
            )
            project._history_user = owner
            self.set_m2m(project, "maps", maps.values())
            self.set_m2m(project, "steps", steps)
            self.set_m2m(project, "pain_points", pain_points)

    def _day(self, offset: int | None) -> date | None:
        return None if offset is None else self.today + timedelta(days=offset)

    # -- all of it

    def run(self) -> Seeder:
        self.seed_people()
        self.seed_personas()
        self.seed_maps()
        self.seed_measurements()
        self.seed_projects()
        return self

    def summary(self) -> list[str]:
        totals: Counter[str] = Counter()
        for counter in self.stats.values():
            totals.update(counter)
        lines = [
            "Retail-bank demo: {created} created, {updated} updated, {unchanged} unchanged, "
            "{deleted} deleted.".format(
                created=totals["created"],
                updated=totals["updated"],
                unchanged=totals["unchanged"],
                deleted=totals["deleted"],
            )
        ]
        for label, counter in self.stats.items():
            count = counter["created"] + counter["updated"] + counter["unchanged"]
            lines.append(f"  {label}: {count}")
        return lines


def _perspective(code: str) -> str:
    return Perspective.BUSINESS if code == "B" else Perspective.CUSTOMER


def seed_demo(today: date | None = None) -> Seeder:
    """Create or update the demo repository; call inside a transaction."""
    return Seeder(today or timezone.localdate()).run()
