"""The merchant portal (/merchant/): views, forms, selectors and exports on top of every layer.

It reads through `merchants.scope.Scope`, so no page can leave the signed-in user's company
(or store, for store roles).
"""
