"""The retrieval benchmark's data: which bank images count as "similar" to which clip.

Semantic retrieval has no pixel ground truth, so the sets are chosen by hand, by content,
from what ``../shared/data`` holds, and written down here so anyone can check them:

- Each query *group* is one or more real colour clips (``clips/``, ``train/``) or one of
  the two black-and-white films of ``legacy/``.
- Its *similar photos* are (a) the ImageNet sample photos (``photos/imagenet_samples``,
  one per class) of the classes that show the same kind of subject and setting (a bear
  clip: the four bear classes; a sailing clip: yawl, catamaran, trimaran, schooner...),
  (b) the colour frames of the *other* clips of the same group (the two paragliding
  clips, the two outdoor-market clips, the twelve portrait clips), and (c) for the legacy
  films their own reference photos (``legacy/*_refs``: colour photos of the same actors,
  costumes and set, none of them a frame of the query shot).
- A query is correct when one of the top 3 results is one of its group's similar photos.
  The query clip's own frames are removed from the bank for its queries, so a query
  never finds its own shot: this measures finding *similar* photos, not the same one.

Clips with no clear counterpart among the photos or other clips (apple, backpack, the
roller coaster, boxer, breakdance, the arm wrestling, make-up, pool, moonwalk, dance,
skeleton and running-in-a-restaurant clips) are not semantic queries; their frames stay in
the bank as distractors, with all 952 ImageNet photos.
"""

from __future__ import annotations

__all__ = ["SEMANTIC_GROUPS", "PORTRAITS"]

# Clips of one face or upper body filling the frame, talking or turning (any person).
PORTRAITS = (
    "liveportrait_d0", "liveportrait_d3", "liveportrait_d12", "liveportrait_d20", "liveportrait_s18",
    "rerender_pexels-antoni-shkraba-8048492", "rerender_pexels-cottonbro-studio-6649832",
    "rerender_pexels-koolshooters-7322716", "sadtalker_WDA_AlexandriaOcasioCortez_000",
    "fresco_music", "cutie_example", "tokenflow_woman-running",
)

# group name -> (query clips, ImageNet classes of its similar photos, clips whose frames
# are similar photos too). A clip is never its own similar photo (its frames are removed
# from the bank while it is queried). "legacy-<film>" groups use ``legacy/<film>_refs``.
SEMANTIC_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "bear": (("bear",), ("brown_bear", "American_black_bear", "ice_bear", "sloth_bear"), ()),
    "cat": (("cat", "flatten_puff", "trackanything_test-sample2"), ("tabby", "tiger_cat", "Persian_cat", "Siamese_cat", "Egyptian_cat"), ("cat", "flatten_puff", "trackanything_test-sample2")),
    "paragliding": (("paragliding", "paragliding-launch"), ("parachute",), ("paragliding", "paragliding-launch")),
    "teddy": (("teddy",), ("teddy",), ()),
    "pillow": (("pillow",), ("pillow", "quilt"), ()),
    "waterbird": (("controlvideo_mallard-water", "samtrack_blackswan"), ("drake", "red-breasted_merganser", "goose", "black_swan"), ("controlvideo_mallard-water", "samtrack_blackswan")),
    "sea": (("depthanything_davis_dolphins", "trackanything_test-sample4"), ("killer_whale", "grey_whale", "dugong", "great_white_shark", "tiger_shark", "hammerhead"), ("depthanything_davis_dolphins", "trackanything_test-sample4")),
    "racing-truck": (("flatten_trucks-race",), ("trailer_truck", "racer", "tow_truck", "moving_van", "fire_engine", "go-kart"), ()),
    "car": (("tuneavideo_car-turn",), ("jeep", "beach_wagon", "minivan", "pickup", "convertible", "sports_car", "cab", "limousine", "Model_T", "racer"), ()),
    "wolf": (("tokenflow_wolf",), ("timber_wolf", "white_wolf", "red_wolf", "coyote", "dingo", "malamute", "Eskimo_dog"), ()),
    "flamingo": (("vidtome_flamingo",), ("flamingo", "spoonbill", "white_stork", "American_egret", "little_blue_heron"), ()),
    "parrot": (("imageio_cockatoo",), ("sulphur-crested_cockatoo", "macaw", "African_grey", "lorikeet"), ()),
    "rabbit": (("tuneavideo_rabbit-watermelon",), ("wood_rabbit", "hare", "Angora"), ()),
    "snow": (("tuneavideo_man-skiing",), ("ski", "snowmobile", "dogsled", "alp", "bobsled", "snowplow"), ()),
    "sailing": (("t2vzero_boat",), ("yawl", "catamaran", "trimaran", "schooner", "lakeside", "canoe"), ()),
    "aircraft": (("moviepy_video_with_failing_audio",), ("airliner", "warplane", "wing"), ()),
    "hot-drink": (("vidtome_tea-pour",), ("cup", "espresso", "coffee_mug", "eggnog", "consomme"), ()),
    "basketball": (("mmaction2_test_video_structuralize",), ("basketball",), ()),
    "tram-street": (("realbasicvsr_demo_000",), ("streetcar", "trolleybus", "cab", "traffic_light", "street_sign"), ()),
    "market": (("aot_1001_3iEIq5HBY1s", "aot_1007_YCTBBdbKSSg"), (), ("aot_1001_3iEIq5HBY1s", "aot_1007_YCTBBdbKSSg")),
    "portrait": (PORTRAITS, (), PORTRAITS),
    "legacy-casablanca": (("legacy-casablanca",), (), ()),
    "legacy-roman_holiday": (("legacy-roman_holiday",), (), ()),
}
