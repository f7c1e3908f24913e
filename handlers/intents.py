"""What a direct message to the bot asks for: patterns first, then a shipped classifier.

The same approach as crisis detection (handlers/safety): a few exact patterns per intent, in
every language the bot reads, decide the clear cases; the shipped linear model (trained by
`python -m bench.train_intents` on bench/corpus/intents/) decides the rest, and below its
threshold the message is `OTHER` and gets the help. `bench/intent_eval.py` prints per-intent
numbers on each part of the labelled set. Reads text only: no Context, storage or bot.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from functools import lru_cache

from handlers.safety import languages
from handlers.safety.detect import reading_for_model
from handlers.safety.model import Linear, read

MODEL_FILE = "intents_model.json.gz"
_LONGEST = 400  # characters: a longer message is not a request for one of these paths


class Intent(StrEnum):
    GREETING = "greeting"
    HELP = "help"
    WHAT_IS_ALLY = "what_is_ally"
    TALK = "talk_to_someone"
    EAP = "eap"
    MENTAL_HEALTH_DAY = "mental_health_day"
    WORRIED = "worried_colleague"
    BECOME_ALLY = "become_ally"
    ROLE = "role_info"
    RESOURCES = "resources"
    PRIVACY = "privacy"
    STOP = "stop_messaging"
    THANKS = "thanks"
    OTHER = "other"


# Whole-message patterns on the model's reading (lowercase, accents dropped, English in
# canonical words): the clear cases, in the order they are tried.
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(p))
    for intent, p in (
        (
            Intent.STOP,
            r"\b(?:stop (?:messaging|texting|sending|pinging|contacting|bothering|spamming)"
            r"|unsubscribe|leave me alone|do not (?:message|contact|text) me|no more (?:messages"
            r"|reminders|notifications)|mute (?:you|this|the bot|notifications)|opt (?:me )?out)\b",
        ),
        (
            Intent.PRIVACY,
            r"\b(?:delete (?:my|all my) (?:data|info|information|details|messages)"
            r"|what (?:data|info"
            r"|information) do you (?:store|keep|hold|have)|(?:is|are) (?:this|it|you|my messages)"
            r" (?:anonymous|private|confidential|logged|recorded)|who can see (?:this|my|what)"
            r"|gdpr|my data|privacy)\b",
        ),
        (
            Intent.BECOME_ALLY,
            r"\b(?:become|becoming|be|sign up as|signing up as|apply (?:to be|as)|volunteer as"
            r"|join as) an? ally\b|\b(?:sign me up|how do i (?:apply|volunteer|join)"
            r"|(?:i want|i would like|keen|interested) to (?:volunteer|help out|join the ally"
            r"|be an ally|become an ally))\b",
        ),
        (
            Intent.ROLE,
            r"\b(?:role description|what does an ally do|what do allies do|ally training"
            r"|training (?:for|do) allies|time commitment|how much time (?:does|would) it take)\b",
        ),
        (
            Intent.WHAT_IS_ALLY,
            r"\b(?:what is|what s|whats|who are|who is) (?:an? |the )?all(?:y|ies)\b"
            r"|\ballies (?:are )?(?:therapists|counsellors|counselors)\b",
        ),
        (
            Intent.WORRIED,
            r"\b(?:worried|concerned|worry|worrying) (?:about|for) (?:my |a |our |one of my )?"
            r"(?:colleague|coworker|teammate|team mate|workmate|friend|report|manager|boss"
            r"|co worker|someone (?:on|in) my team)s?\b",
        ),
        (Intent.EAP, r"\b(?:eap|employee assistance(?: programme| program)?)\b"),
        (
            Intent.MENTAL_HEALTH_DAY,
            r"\b(?:mental health day|wellbeing day|well being day|duvet day|day off for my"
            r" (?:mental health|head|wellbeing))s?\b",
        ),
        (
            Intent.TALK,
            r"^(?:i )?(?:want|need|would like|wanna|can i|could i|please can i) (?:to )?"
            r"(?:talk|speak|chat) (?:to|with) (?:someone|somebody|an ally|a person|a human"
            r"|anyone)\b",
        ),
        (
            Intent.RESOURCES,
            r"\b(?:helplines?|help lines?|crisis (?:numbers?|lines?)|support (?:links|numbers))\b",
        ),
        (
            Intent.HELP,
            r"^(?:help|help me|menu|commands|what can you do|how does this work|options)"
            r"(?: please)?[ ?!.]*$",
        ),
        (
            Intent.THANKS,
            r"^(?:thanks|thank you|thank u|thx|ty|cheers|ta|many thanks|gracias|merci|danke"
            r"|obrigad[oa]|grazie|dziekuje|dzieki|bedankt|dank je)(?: (?:so much|a lot|very much"
            r"|again|mate|bot|allybot))*[ !.]*$",
        ),
        (
            Intent.GREETING,
            r"^(?:hi|hello|hey|hiya|heya|yo|howdy|good (?:morning|afternoon|evening)|morning"
            r"|hola|buenos dias|bonjour|salut|hallo|guten (?:morgen|tag)|ola|bom dia|ciao"
            r"|buongiorno|czesc|dzien dobry|hoi|goedemorgen)(?: (?:there|bot|allybot|all|everyone"
            r"|team))?[ !.,]*$",
        ),
    )
)


class Classifier:
    """Patterns, then the model; `OTHER` when neither is sure."""

    def __init__(self, model: Linear, threshold: float) -> None:
        self.model, self.threshold = model, threshold
        self._intents = [Intent(c) for c in model.classes]

    def classify(self, text: str) -> Intent:
        text = text.strip()
        if not text or len(text) > _LONGEST:
            return Intent.OTHER
        lang = languages.identify(text)
        reading = reading_for_model(text, lang)
        for intent, pattern in _PATTERNS:
            if pattern.search(reading):
                return intent
        logits = self.model.first(reading)
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        best = max(range(len(exps)), key=exps.__getitem__)
        chance = exps[best] / sum(exps)
        return self._intents[best] if chance >= self.threshold else Intent.OTHER


@lru_cache(maxsize=1)
def shipped() -> Classifier:
    data = read("handlers", MODEL_FILE)
    return Classifier(Linear(data), float(data["threshold"]))


def classify(text: str) -> Intent:
    """What the direct message `text` asks for."""
    return shipped().classify(text)
