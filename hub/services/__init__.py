"""London's service catalogues at the hub (SPEC §6.6), one module per concept:

- ``catalogue``    a borough's ``ServiceCatalogue`` as typed ``Service`` objects
- ``eligibility``  whether a referral meets a service's criteria
- ``search``       ``ServiceSearch`` criteria, ranking and results
- ``store``        the ``CatalogueStore`` and ``CatalogueStorage`` interfaces
                   (implementations in ``hub.storage.<backend>.catalogues``)
- ``handlers``     the hub's handlers for catalogues and searches

The borough side (publish a catalogue, search) is
``adapters.client.services.CatalogueClient``.
"""
