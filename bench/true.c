/* true: the tiny static payload for RSS measurements. Exit 0 with a few pages
 * resident, so the peak RSS measured is the runtime's, not the payload's. */
int main(void)
{
	return 0;
}
