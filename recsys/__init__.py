"""crs: a conversational recommender system backend.

Data flow (one package per stage):

    recsys.data      datasets (MovieLens, ReDial, metadata) -> typed tables
    recsys.catalog   one item table with aligned ids (ReDial <-> MovieLens)
    graph            item graph (items, attributes, co-mentions, users) and GNN generators
    recsys.models    the Recommender contract, baselines, CF, PPR and the fusion ranker
    recsys.eval      offline evaluation that sees only the contract
    dialogue         understanding -> events -> state in Redis -> policy -> reply
    api              FastAPI service
"""

__version__ = "0.1.0"
