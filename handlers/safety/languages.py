"""Which language a message is in, and the risk-core patterns of the languages other than English.

Identification uses langdetect's own shipped profiles, limited to the languages the bot reads, so
it needs no network and little memory (about 3 MB). Its sampling is seeded, so the same text
always gets the same answer. Patterns are written against `normalise`d text (lowercase, accents
dropped, punctuation as words), without the English expansions.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources

from handlers.safety.concerns import Concern, Level
from handlers.safety.patterns import Rule

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "pl", "nl")
_SAMPLE = 600  # characters read to identify a language: enough, and bounded for a long text
_SURE = 0.80
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _factory():  # type: ignore[no-untyped-def]
    from langdetect.detector_factory import DetectorFactory

    factory = DetectorFactory()
    folder = resources.files("langdetect").joinpath("profiles")
    factory.load_json_profile([folder.joinpath(code).read_text("utf-8") for code in LANGUAGES])
    factory.set_seed(0)
    return factory


def identify(text: str) -> str:
    """The message's language among LANGUAGES; English when it is too short or unclear."""
    sample = text[:_SAMPLE]
    if len(sample.split()) < 2:
        return "en"
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # a detector is cheap to make but the factory's profiles are shared
        detector = _factory().create()
        detector.n_trial = 3
        detector.append(sample)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return "en"
    return best.lang if best.lang in LANGUAGES and best.prob >= _SURE else "en"


def _rule(concern: Concern, cues: tuple[str, ...], pattern: str, level: Level = Level.HIGH) -> Rule:
    return Rule(concern, level, cues, re.compile(pattern), False)


# The risk cores of each language: wanting to die or not to live, suicide, a plan or means,
# harm already done, harm to others, abuse at home, a child hurt, assault, someone else in danger.
FOREIGN: dict[str, tuple[Rule, ...]] = {
    "es": (
        _rule(Concern.SELF, ("suicid",), r"\bsuicid\w*", Level.QUIET),
        _rule(
            Concern.SELF,
            (
                "morir",
                "muerto",
                "muerta",
                "vivir",
                "matarme",
                "matar",
                "acabar",
                "desaparecer",
                "quitarme",
                "despertar",
                "seguir",
                "tirarme",
                "aguanto",
                "colgarme",
                "ahorcarme",
                "carga",
                "mejor",
                "no quiero",
                "no puedo",
                "ganas",
            ),
            r"(?<!\bno )\b(?:quiero|quisiera|ojala|prefiero|deseo|me gustaria"
            r"|ganas de) (?:\w+ ){0,2}"
            r"(?:morir\w*|estar muert[oa]|desaparecer|no despertar|dejar de existir)\b"
            r"|\bno (?:quiero|puedo|tengo ganas de|aguanto) (?:\w+ ){0,2}(?:vivir|seguir"
            r" (?:viviendo|asi|adelante)|despertar|mas)\b(?! (?:en|con|aqui|alli)\b)"
            r"|\b(?:matarme|me (?:quiero|voy a|podria) matar|quitarme la vida|acabar con (?:mi vida"
            r"|todo)|terminar con todo"
            r"|tirarme (?:por|del|de la|al)|colgarme|ahorcarme)\b"
            r"|\bseria mejor (?:si )?(?:no estuviera|sin mi)\b|\bsoy una carga\b",
        ),
        _rule(
            Concern.SELF,
            ("pastillas", "cuerda", "despedida", "carta", "puente"),
            r"\b(?:guardando|juntando|compre|tengo) (?:\w+ ){0,3}(?:pastillas|cuerda|soga)\b"
            r"|\bcarta de despedida\b|\b(?:en|sobre) el puente\b(?= (?:\w+ ){0,3}(?:saltar"
            r"|tirarme|acabar))",
        ),
        _rule(
            Concern.HARM_DONE,
            ("tome", "trague", "bebi", "pastillas", "sangr"),
            r"\b(?:me )?(?:tome|trague|he tomado) (?:\w+ ){0,3}(?:todas|toda la caja|muchas"
            r"|\d+) (?:\w+ ){0,2}pastillas\b|\bno (?:para|deja) de sangrar\b|\bbebi lejia\b",
        ),
        _rule(
            Concern.OTHERS,
            ("matar", "hacer dano", "dano", "apunalar", "pegarle"),
            r"(?<!\bme )\b(?:voy a|quiero|podria|tengo ganas de) (?:\w+ ){0,1}(?:matar"
            r"|hacerle dano|apunalar"
            r"|pegarle) (?:a )?(?:mi |el |la |ese |esa )?\w+",
        ),
        _rule(
            Concern.ABUSE,
            ("pega", "golpea", "matar", "miedo", "maltrat", "amenaz"),
            r"\bmi (?:marido|pareja|novio|novia|esposo|esposa|mujer|ex) (?:\w+ ){0,2}(?:me pega"
            r"|me golpea|me maltrata|me amenaza|me controla|me va a matar|me ha pegado)\b"
            r"|\bmiedo de (?:volver|ir) a casa\b|\bme (?:pega|golpea|maltrata)\b"
            r"|\b(?:dijo|dice) que (?:si (?:\w+ ){1,4})?me (?:va a )?matar\w*\b",
        ),
        _rule(
            Concern.CHILD,
            ("hijo", "hija", "nino", "nina", "bebe"),
            r"\b(?:le pego|pega|golpea|maltrata|abusa de|toca) (?:a )?(?:mi |su |la |el )?"
            r"(?:hij[oa]|nin[oa]|bebe)\w*\b|\bmiedo de hacerle dano (?:a )?(?:mi )?(?:hij[oa]"
            r"|bebe)\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("violo", "violacion", "abuso", "forzo", "obligo", "viol"),
            r"\b(?:me )?(?:violo|violaron|forzo|obligo a)\b|\babus(?:o|aron) (?:sexualmente )?"
            r"de mi\b|\bagresion sexual\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("suicid", "matarse", "pastillas", "despid"),
            r"\b(?:mi |un |una )?(?:companer[oa]|amig[oa]|herman[oa]|madre|padre|pareja)"
            r" (?:\w+ ){0,4}(?:suicid\w*|matarse|quitarse la vida|se tomo (?:\w+ ){0,3}pastillas"
            r"|se despidio)\b",
        ),
    ),
    "fr": (
        _rule(Concern.SELF, ("suicid",), r"\bsuicid\w*", Level.QUIET),
        _rule(
            Concern.SELF,
            (
                "mourir",
                "mort",
                "vivre",
                "tuer",
                "disparaitre",
                "reveiller",
                "finir",
                "en finir",
                "fardeau",
                "suicid",
                "pendre",
                "foutre",
                "finir",
                "fardeau",
                "mieux sans",
                "plus envie",
                "ne peux plus",
                "ne veux plus",
            ),
            r"\b(?:je veux|j ai envie de|envie de|j aimerais|je voudrais|prefere|prefererais)"
            r" (?:\w+ ){0,2}(?:mourir|etre mort\w*|disparaitre|ne plus me reveiller|ne plus"
            r" exister|en finir)\b"
            r"|\b(?:je ne veux plus|j ai plus envie de|je n ai plus envie de|je ne peux plus)"
            r" (?:\w+ ){0,1}(?:vivre|continuer|exister|tenir)\b"
            r"|\b(?:me tuer|me suicider|en finir avec (?:la vie|tout)|mettre fin a mes jours"
            r"|me foutre en l air|me pendre|sauter du pont)\b"
            r"|\bje suis un fardeau\b|\bmieux sans moi\b",
        ),
        _rule(
            Concern.SELF,
            ("cachets", "comprimes", "medicaments", "corde", "lettre", "adieu"),
            r"\b(?:j ai|je garde|j accumule|j ai achete) (?:\w+ ){0,3}(?:cachets|comprimes"
            r"|medicaments|corde)\b(?= (?:\w+ ){0,4}(?:pour|ce soir|en finir|de cote))"
            r"|\blettre d adieu\b|\bmes adieux\b",
        ),
        _rule(
            Concern.HARM_DONE,
            ("pris", "avale", "saigne", "comprimes", "cachets"),
            r"\bj ai (?:pris|avale) (?:\w+ ){0,3}(?:toute la boite|tous mes|plein de|\d+)"
            r" (?:\w+ ){0,2}(?:cachets|comprimes|medicaments)\b|\bca ne s arrete pas de saigner\b",
        ),
        _rule(
            Concern.OTHERS,
            ("tuer", "frapper", "buter"),
            r"\b(?:je vais|j ai envie de|je pourrais|je veux) (?:\w+ ){0,1}(?:le |la |les )?"
            r"(?:tuer|buter|poignarder|frapper)\b",
        ),
        _rule(
            Concern.ABUSE,
            ("frappe", "bat", "tuer", "peur", "menace", "violent"),
            r"\b(?:mon (?:mari|copain|conjoint|compagnon|ex)|ma (?:femme|copine|compagne))"
            r"(?= (?:\w+ ){0,2}(?:me frappe|me bat|me menace|va me tuer|me controle))"
            r"|\b(?:il|elle) (?:\w+ ){0,1}(?:me frappe|me bat|me menace de|va me tuer)\b"
            r"|\bpeur de rentrer (?:a la maison|chez moi)\b",
        ),
        _rule(
            Concern.CHILD,
            ("enfant", "fils", "fille", "bebe"),
            r"\b(?:frappe|bat|maltraite|touche|secoue) (?:mon |ma |son |sa |l |le |la )?(?:enfant"
            r"|fils|fille|bebe)\b|\bpeur de faire du mal a (?:mon |ma )?(?:enfant|bebe|fils"
            r"|fille)\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("viol", "force", "agression"),
            r"\b(?:il m a violee?|j ai ete violee?|on m a violee?|viol)\b|\bagression sexuelle\b"
            r"|\bm a forcee? a\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("suicid", "tuer", "cachets", "adieu"),
            r"\b(?:mon |ma )(?:collegue|ami|amie|frere|soeur|mere|pere) (?:\w+ ){0,4}(?:suicid\w*"
            r"|se tuer|en finir|a pris (?:\w+ ){0,3}cachets|m a dit adieu)\b",
        ),
    ),
    "de": (
        _rule(
            Concern.SELF,
            (
                "suizid",
                "selbstmord",
            ),
            r"\b(?:suizid|selbstmord)\w*",
            Level.QUIET,
        ),
        _rule(
            Concern.SELF,
            (
                "suizid",
                "selbstmord",
                "umbringen",
                "mich",
                "will",
                "mochte",
                "wunschte",
                "ware",
                "nicht mehr",
                "besser ohne",
                "sterben",
                "tot",
                "leben",
                "ende",
                "aufwachen",
                "last",
            ),
            r"\b(?:mich umbringen|(?:bringe|bring"
            r"|werde) mich (?:\w+ )?um\b|mir das leben nehmen|mich toeten"
            r"|mich erhangen|allem ein ende setzen|schluss machen mit allem)\b"
            r"|\b(?:ich will|ich mochte|ich wunschte|ich ware lieber|will einfach) (?:\w+ ){0,2}"
            r"(?:sterben|tot sein|nicht mehr aufwachen|nicht mehr da sein|verschwinden)\b"
            r"|\b(?:ich will|ich kann|ich mag) nicht mehr (?:leben|weiter|weitermachen)\b"
            r"|\bwill nicht mehr leben\b|\bbin (?:nur )?eine last\b|\bbesser ohne mich\b",
        ),
        _rule(
            Concern.SELF,
            ("tabletten", "seil", "strick", "abschied", "brucke"),
            r"\b(?:sammle|habe|gekauft|gehortet) (?:\w+ ){0,3}(?:tabletten|seil|strick)\b"
            r"|\babschiedsbrief\b|\bauf der brucke\b(?= (?:\w+ ){0,3}(?:springen|ende))",
        ),
        _rule(
            Concern.HARM_DONE,
            ("genommen", "geschluckt", "tabletten", "blut"),
            r"\b(?:habe|hab) (?:\w+ ){0,3}(?:alle|die ganze packung|viele|\d+) (?:\w+ ){0,2}"
            r"tabletten (?:\w+ )?(?:genommen|geschluckt)\b|\bhort nicht auf zu bluten\b",
        ),
        _rule(
            Concern.OTHERS,
            ("umbringen", "toten", "abstechen"),
            r"\b(?:ich werde|ich will|ich konnte) (?:ihn|sie|meinen \w+|meine \w+) "
            r"(?:\w+ ){0,1}(?:umbringen|toten|abstechen|verletzen)\b",
        ),
        _rule(
            Concern.ABUSE,
            ("schlagt", "bedroht", "umbringen", "angst"),
            r"\b(?:mein (?:mann|freund|partner|ex)|meine (?:frau|freundin|partnerin))"
            r"(?= (?:\w+ ){0,2}(?:schlagt mich|bedroht mich|wird mich umbringen))"
            r"|\b(?:er|sie) (?:schlagt|bedroht|wurgt) mich\b|\bangst nach hause zu gehen\b",
        ),
        _rule(
            Concern.CHILD,
            ("kind", "sohn", "tochter", "baby"),
            r"\b(?:schlagt|misshandelt|beruhrt|schuttelt) (?:mein |meine |sein |ihr |das )?(?:kind"
            r"|sohn|tochter|baby)\b|\bangst (?:meinem |meiner )?(?:kind|baby|sohn|tochter)"
            r" (?:\w+ ){0,2}weh zu tun\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("vergewaltig", "sexuell", "gezwungen"),
            r"\bvergewaltig\w*|\bsexuell(?:er)? (?:ubergriff|missbraucht|belastigt)\w*"
            r"|\bhat mich gezwungen\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("umbringen", "suizid", "tabletten", "abschied"),
            r"\b(?:mein |meine )(?:kollege|kollegin|freund|freundin|bruder|schwester|mutter|vater)"
            r" (?:\w+ ){0,4}(?:sich umbringen|suizid\w*|tabletten genommen|verabschiedet)\b",
        ),
    ),
    "pt": (
        _rule(Concern.SELF, ("suicid",), r"\bsuicid\w*", Level.QUIET),
        _rule(
            Concern.SELF,
            (
                "morrer",
                "morto",
                "morta",
                "viver",
                "matar",
                "acabar",
                "sumir",
                "acordar",
                "aguento",
                "fardo",
                "tirar",
                "vida",
                "enforcar",
                "pular",
                "fardo",
                "melhor sem",
                "nao quero",
                "nao aguento",
                "nao consigo",
            ),
            r"(?<!\bnao )(?<!\bno )\b(?:quero|queria|gostaria de|prefiro"
            r"|vontade de) (?:\w+ ){0,2}(?:morrer|estar"
            r" mort[oa]|sumir|desaparecer|nao acordar|deixar de existir)\b"
            r"|\bnao (?:quero|aguento|consigo) (?:mais )?(?:viver|continuar|seguir)\b"
            r"|\b(?:me matar|matar-me|tirar a minha vida|tirar minha vida|acabar com (?:tudo"
            r"|a minha vida|minha vida)|me enforcar|pular da ponte)\b"
            r"|\bsou um fardo\b|\bmelhor sem mim\b",
        ),
        _rule(
            Concern.SELF,
            ("comprimidos", "remedios", "corda", "despedida", "carta"),
            r"\b(?:guardando|juntando|comprei|tenho) (?:\w+ ){0,3}(?:comprimidos|remedios|corda)\b"
            r"(?= (?:\w+ ){0,4}(?:para|hoje|acabar))|\bcarta de despedida\b",
        ),
        _rule(
            Concern.HARM_DONE,
            ("tomei", "engoli", "sangr", "comprimidos"),
            r"\b(?:tomei|engoli) (?:\w+ ){0,3}(?:todos|a caixa toda|muitos|\d+) (?:\w+ ){0,2}"
            r"(?:comprimidos|remedios)\b|\bnao para de sangrar\b",
        ),
        _rule(
            Concern.OTHERS,
            ("matar",),
            r"\b(?:vou|quero|posso) (?:\w+ ){0,1}matar (?:o |a |esse |essa |meu |minha )?\w+",
        ),
        _rule(
            Concern.ABUSE,
            ("bate", "ameaca", "matar", "medo"),
            r"\b(?:meu|minha) (?:marido|namorado|companheiro|mulher|namorada|ex) (?:\w+ ){0,2}"
            r"(?:me bate|me ameaca|vai me matar|me agride)\b|\bmedo de (?:voltar|ir) para casa\b",
        ),
        _rule(
            Concern.CHILD,
            ("filho", "filha", "crianca", "bebe"),
            r"\b(?:bate|espanca|abusa|maltrata) (?:no |na |o |a |meu |minha )?(?:filh[oa]|crianca"
            r"|bebe)\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("estupr", "violad", "abus", "forcou"),
            r"\b(?:fui )?(?:estuprad[oa]|violad[oa])\b|\bme (?:estuprou|forcou)\b|\babuso sexual\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("suicid", "matar", "comprimidos"),
            r"\b(?:meu|minha) (?:colega|amig[oa]|irma[o]?|mae|pai) (?:\w+ ){0,4}(?:suicid\w*"
            r"|se matar|tomou (?:\w+ ){0,3}comprimidos)\b",
        ),
    ),
    "it": (
        _rule(Concern.SELF, ("suicid",), r"\bsuicid\w*", Level.QUIET),
        _rule(
            Concern.SELF,
            (
                "morire",
                "morto",
                "morta",
                "vivere",
                "ammazzarmi",
                "uccidermi",
                "farla finita",
                "sparire",
                "svegliarmi",
                "peso",
            ),
            r"(?<!\bnon )\b(?:voglio|vorrei|preferirei|ho voglia di) (?:\w+ ){0,2}(?:morire"
            r"|essere mort[oa]"
            r"|sparire|non svegliarmi|farla finita)\b"
            r"|\bnon (?:voglio|ce la faccio|riesco) (?:piu )?(?:a )?(?:vivere|andare avanti)\b"
            r"|\b(?:ammazzarmi|uccidermi|togliermi la vita|farla finita|impiccarmi"
            r"|buttarmi (?:dal|giu))\b|\bsono un peso\b|\bmeglio senza di me\b",
        ),
        _rule(
            Concern.SELF,
            ("pillole", "pastiglie", "corda", "addio", "lettera"),
            r"\b(?:messo da parte|conservando|comprato|ho) (?:\w+ ){0,3}(?:pillole|pastiglie"
            r"|corda)\b(?= (?:\w+ ){0,4}(?:per|stasera|farla))|\blettera d addio\b",
        ),
        _rule(
            Concern.HARM_DONE,
            ("preso", "ingoiato", "sangu", "pillole"),
            r"\bho (?:preso|ingoiato) (?:\w+ ){0,3}(?:tutte|tutta la scatola|tante|\d+)"
            r" (?:\w+ ){0,2}(?:pillole|pastiglie)\b|\bnon smette di sanguinare\b",
        ),
        _rule(
            Concern.OTHERS,
            ("ammazzare", "uccidere"),
            r"\b(?:voglio|vado a|potrei) (?:\w+ ){0,1}(?:ammazzarlo|ammazzarla|ucciderlo"
            r"|ucciderla|ammazzare|uccidere)\b",
        ),
        _rule(
            Concern.ABUSE,
            ("picchia", "minaccia", "ammazz", "paura"),
            r"\b(?:mio|mia) (?:marito|compagno|ragazzo|moglie|ragazza|ex) (?:\w+ ){0,2}"
            r"(?:mi picchia|mi minaccia|mi ammazza|mi ammazzera)\b|\bpaura di tornare a casa\b",
        ),
        _rule(
            Concern.CHILD,
            ("figlio", "figlia", "bambino", "bambina"),
            r"\b(?:picchia|maltratta|tocca|abusa di) (?:mio |mia |il |la |suo |sua )?(?:figli[oa]"
            r"|bambin[oa])\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("stupr", "violent", "abus"),
            r"\b(?:stuprat[oa]|mi ha violentat[oa]|violenza sessuale|abusat[oa])\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("suicid", "ammazz", "pillole"),
            r"\b(?:il mio|la mia|mio|mia) (?:collega|amic[oa]|fratello|sorella|madre|padre)"
            r" (?:\w+ ){0,4}(?:suicid\w*|ammazzarsi|uccidersi|ha preso (?:\w+ ){0,3}pillole)\b",
        ),
    ),
    "pl": (
        _rule(Concern.SELF, ("samoboj",), r"\b(?:samoboj)\w*", Level.QUIET),
        _rule(
            Concern.SELF,
            (
                "samoboj",
                "zabic",
                "umrzec",
                "zyc",
                "skonczyc",
                "zniknac",
                "obudzic",
                "ciezarem",
                "zabije",
            ),
            r"(?<!\bnie )\b(?:chce|chcialbym|chcialabym|wolalbym"
            r"|wolalabym) (?:\w+ ){0,2}"
            r"(?:umrzec|nie zyc|zniknac|sie nie obudzic|skonczyc ze soba)\b"
            r"|\bnie (?:chce|moge|dam rady) (?:juz )?(?:zyc|dalej)\b"
            r"|\b(?:zabic sie|sie zabic|zabije sie|odebrac sobie zycie|skonczyc ze soba"
            r"|powiesic sie)\b"
            r"|\bjestem ciezarem\b|\blepiej beze mnie\b",
        ),
        _rule(
            Concern.SELF,
            ("tabletki", "sznur", "list pozegnalny", "pozegn"),
            r"\b(?:zbieram|kupilem|kupilam|mam) (?:\w+ ){0,3}(?:tabletki|sznur|line)\b"
            r"(?= (?:\w+ ){0,4}(?:zeby|dzis|na))|\blist pozegnalny\b",
        ),
        _rule(
            Concern.HARM_DONE,
            ("wzialem", "wzielam", "lyknalem", "lyknelam", "tabletek", "krew"),
            r"\b(?:wzialem|wzielam|lyknalem|lyknelam|polknalem|polknelam) (?:\w+ ){0,3}(?:cale"
            r" opakowanie|wszystkie|duzo|\d+) (?:\w+ ){0,1}tablet\w*\b|\bkrew nie przestaje\b",
        ),
        _rule(
            Concern.OTHERS,
            ("zabije", "zabic"),
            r"\b(?:zabije|chce zabic|moge zabic) (?:go|ja|ich|szefa|\w+)\b",
        ),
        _rule(
            Concern.ABUSE,
            ("bije", "grozi", "zabije", "boje"),
            r"\b(?:moj|moja) (?:maz|partner|chlopak|zona|dziewczyna|byly|byla) (?:\w+ ){0,2}"
            r"(?:mnie bije|bije mnie|grozi mi|mnie zabije)\b|\bboje sie wracac do domu\b",
        ),
        _rule(
            Concern.CHILD,
            ("dziecko", "syn", "corka", "syna", "corke"),
            r"\b(?:bije|krzywdzi|dotyka|molestuje) (?:moje |moja |moj |swoje )?(?:dziecko|syna"
            r"|corke|dzieci)\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("zgwalc", "gwalt", "molest", "zmusil"),
            r"\b(?:zgwalcil\w*|zgwalcona|zgwalcony|gwalt\w*|zmusil mnie)\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("zabic", "samoboj", "tabletki"),
            r"\b(?:moj|moja) (?:kolega|kolezanka|przyjaciel|przyjaciolka|brat|siostra|mama|tata)"
            r" (?:\w+ ){0,4}(?:chce sie zabic|samoboj\w*|wzial\w* (?:\w+ ){0,3}tabletki)\b",
        ),
    ),
    "nl": (
        _rule(
            Concern.SELF,
            (
                "zelfmoord",
                "suicid",
            ),
            r"\b(?:zelfmoord|suicid)\w*",
            Level.QUIET,
        ),
        _rule(
            Concern.SELF,
            (
                "zelfmoord",
                "suicid",
                "dood",
                "leven",
                "doodgaan",
                "beter af",
                "niet meer",
                "sterven",
                "verdwijnen",
                "wakker",
                "last",
                "ophangen",
                "einde",
            ),
            r"\b(?:mezelf (?:van kant maken|ophangen|iets aandoen"
            r"|doden)|er een einde aan maken|uit het leven stappen)\b"
            r"|\b(?:ik wil|ik zou willen|wou dat ik|liever) (?:\w+ ){0,2}(?:dood (?:zijn|gaan)"
            r"|doodgaan|sterven|verdwijnen|niet meer wakker worden|dood)\b"
            r"|\b(?:ik wil|ik kan) niet meer (?:leven|verder)\b|\bben een last\b"
            r"|\bbeter af zonder mij\b",
        ),
        _rule(
            Concern.SELF,
            ("pillen", "touw", "afscheidsbrief", "brug"),
            r"\b(?:verzamel|gekocht|heb) (?:\w+ ){0,3}(?:pillen|touw)\b(?= (?:\w+ ){0,4}"
            r"(?:om|vannacht|vanavond))|\bafscheidsbrief\b",
        ),
        _rule(
            Concern.HARM_DONE,
            ("ingenomen", "geslikt", "pillen", "bloed"),
            r"\b(?:heb|ik heb) (?:\w+ ){0,3}(?:alle|de hele doos|veel|\d+) (?:\w+ ){0,2}"
            r"(?:pillen|tabletten) (?:\w+ )?(?:ingenomen|geslikt)\b|\bblijft maar bloeden\b",
        ),
        _rule(
            Concern.OTHERS,
            ("vermoorden", "doodmaken", "neersteken"),
            r"\b(?:ik ga|ik wil|ik kan) (?:hem|haar|ze|mijn \w+) (?:\w+ ){0,1}(?:vermoorden"
            r"|doodmaken|neersteken|iets aandoen)\b",
        ),
        _rule(
            Concern.ABUSE,
            ("slaat", "bedreigt", "vermoorden", "bang"),
            r"\bmijn (?:man|vriend|partner|vrouw|vriendin|ex) (?:\w+ ){0,2}(?:slaat me|slaat mij"
            r"|bedreigt me|gaat me vermoorden)\b|\bbang om naar huis te gaan\b",
        ),
        _rule(
            Concern.CHILD,
            ("kind", "zoon", "dochter", "baby"),
            r"\b(?:slaat|mishandelt|misbruikt|schudt) (?:mijn |zijn |haar |het )?(?:kind|zoon"
            r"|dochter|baby|kinderen)\b",
        ),
        _rule(
            Concern.ASSAULT,
            ("verkracht", "aangerand", "misbruikt", "gedwongen"),
            r"\b(?:verkracht|aangerand|seksueel misbruikt|heeft me gedwongen)\b",
        ),
        _rule(
            Concern.SOMEONE_ELSE,
            ("zelfmoord", "pillen", "einde"),
            r"\b(?:mijn )(?:collega|vriend|vriendin|broer|zus|moeder|vader) (?:\w+ ){0,4}"
            r"(?:zelfmoord|een einde aan maken|pillen ingenomen)\b",
        ),
    ),
}
