"""Frequent function words of the languages most common on the web.

A block of running prose has many of them whatever its topic; menus, bylines and link lists have few.
Several languages are pooled so that the feature does not collapse on non-English pages.
"""

_WORDS = {
    "en": "the of and to a in is that for it as was with be by on not he this are or his from at which "
          "but have an they you were her she there been one all we their has would when who will more if "
          "no out so said what up its about than into them can only other new some could time these two "
          "may then do first any my now such like our over me even most made after also did many",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an "
          "werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war "
          "haben nur oder aber vor zur bis mehr durch man sein wurde sei",
    "fr": "de la le et les des en un du une que est pour qui dans par plus pas au sur ne se ce il sont "
          "avec ou son aux mais nous comme elle leur cette été ses sa ont lui fait bien",
    "es": "de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o "
          "este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos",
    "it": "di e il la che in a per un del è non una sono le con si da al dei della gli lo come più ma "
          "nel anche alla ha se questo delle loro sua suo",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele "
          "das tem à seu sua ou ser quando muito há nos já está eu também",
    "nl": "de en van het een in is dat op te zijn met voor niet aan er die ook als bij door maar om dan "
          "nog wel naar uit was worden kan",
}

STOPWORDS = frozenset(word for words in _WORDS.values() for word in words.split())

# Chinese and Japanese write no spaces: their function words are single characters, counted one by one
# (Chinese particles, pronouns, prepositions and conjunctions; Japanese case particles).
CJK_FUNCTION_CHARS = frozenset("的了是在和有不这也就都而与着或为以于之其所被把对从但并"
                               "等个我你他她它们要会能可将已又还让のはがをにでともへ")
