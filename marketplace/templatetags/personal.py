"""`{% personal "region" name=value ... %}...{% endpersonal %}`: a part of a shared page that
differs between signed-in visitors (issue 20, `marketplace/personal.py`).

On an ordinary render the block renders in place, with its named values in the context (like
`{% with %}`). On the render of the shared copy for signed-in visitors it leaves a marker and
records the region and its values (shared facts, never personal ones); each signed-in request
then renders the same nodes again with those values and its own (`personal.fill`). So the
block may read only its named values, what `personal.REGIONS` adds for the visitor, and what
every request has (`user`, `request`, `csrf_token`, the navigation counts).
"""

from django import template

from marketplace import fragments

register = template.Library()


class PersonalNode(template.Node):
    def __init__(self, region: str, facts: dict, nodelist: template.NodeList) -> None:
        self.region = region
        self.facts = facts
        self.nodelist = nodelist

    def render(self, context) -> str:
        facts = {name: value.resolve(context) for name, value in self.facts.items()}
        holes = getattr(context.get("request"), "personal_holes", None)
        if holes:
            return holes.leave(self.origin.template_name, self.region, facts)
        with context.push(**facts):
            return self.nodelist.render(context)


@register.tag
def personal(parser, token) -> PersonalNode:
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'":
        raise template.TemplateSyntaxError(f"{bits[0]} needs a quoted region name first")
    facts = template.base.token_kwargs(bits[2:], parser, support_legacy=False)
    if len(facts) != len(bits) - 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes only name=value after the region")
    nodelist = parser.parse(("endpersonal",))
    parser.delete_first_token()
    return PersonalNode(bits[1][1:-1], facts, nodelist)


@register.simple_tag(takes_context=True)
def navbar(context) -> str:
    """The navigation bar (`fragments.navbar`: a signed-in user's is rendered once and kept)."""
    return fragments.navbar(context)
