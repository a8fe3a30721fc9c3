package scaffolder

// The schemas below mirror the input and output schemas of Backstage's
// GitHub and GitLab scaffolder modules, field for field where Backlot
// carries the field out; a field Backlot does not carry out yet is refused
// by the action with an error naming it rather than ignored.

type schemaProps = map[string]any

func sObj(required []string, props schemaProps) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func sStr(title, desc string) map[string]any {
	return map[string]any{"type": "string", "title": title, "description": desc}
}

func sBool(title, desc string) map[string]any {
	return map[string]any{"type": "boolean", "title": title, "description": desc}
}

func sNum(title, desc string) map[string]any {
	return map[string]any{"type": "number", "title": title, "description": desc}
}

func sStrs(title, desc string) map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "title": title, "description": desc}
}

func sEnum(title, desc string, values ...string) map[string]any {
	return map[string]any{"type": "string", "title": title, "description": desc, "enum": values}
}

var (
	repoURLProp = sStr("Repository Location", "Accepts the format 'github.com?repo=reponame&owner=owner' where 'reponame' is the repository name and 'owner' is an organization or username")
	tokenProp   = sStr("Authentication Token", "The token to use for authorization to the host (default: the worker's)")
)

// hostActions are the actions of Backstage's GitHub and GitLab modules that
// Backlot carries out.
func hostActions() []Action {
	dry := func(out map[string]any) ActionFunc { return hostDry(out) }
	return []Action{
		{ID: "publish:github:pull-request", Description: "Pushes the workspace as a branch of a GitHub repository and opens a pull request of it (a retry finds both)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "title", "description", "branchName"}, schemaProps{
				"repoUrl": repoURLProp, "branchName": sStr("Branch Name", "The name for the branch"),
				"targetBranchName": sStr("Target Branch Name", "The target branch name of the merge request"),
				"title":            sStr("Pull Request Name", "The name for the pull request"),
				"description":      sStr("Pull Request Description", "The description of the pull request"),
				"draft":            sBool("Create as Draft", "Create a draft pull request"),
				"sourcePath":       sStr("Working Subdirectory", "Subdirectory of working directory to copy changes from"),
				"targetPath":       sStr("Repository Subdirectory", "Subdirectory of repository to apply changes to"),
				"token":            tokenProp,
				"reviewers":        sStrs("Pull Request Reviewers", "The users that will be added as reviewers to the pull request"),
				"teamReviewers":    sStrs("Pull Request Team Reviewers", "The teams that will be added as reviewers to the pull request"),
				"commitMessage":    sStr("Commit Message", "The commit message for the pull request commit"),
				"update":           sBool("Update", "Update pull request if already exists"),
				"gitAuthorName":    sStr("Author Name", "Sets the author name for the commit"),
				"gitAuthorEmail":   sStr("Author Email", "Sets the author email for the commit"),
			}), "output": sObj([]string{"remoteUrl"}, schemaProps{
				"targetBranchName":  sStr("Target branch name of the merge request", ""),
				"remoteUrl":         sStr("Pull Request URL", "Link to the pull request in Github"),
				"pullRequestNumber": sNum("Pull Request Number", "The pull request number"),
			})},
			Run: publishGitHubPullRequest, DryRun: dry(map[string]any{"remoteUrl": "dry-run://{host}/{owner}/{repo}/pull/0", "pullRequestNumber": 0})},
		{ID: "publish:gitlab:merge-request", Description: "Pushes the workspace as a branch of a GitLab project and opens a merge request of it (a retry finds both)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "branchName"}, schemaProps{
				"repoUrl":            sStr("Repository Location", "Accepts the format 'gitlab.com?repo=project_name&owner=group_name' where 'project_name' is the repository name and 'group_name' is a group or username"),
				"title":              sStr("Merge Request Name", "The name for the merge request"),
				"description":        sStr("Merge Request Description", "The description of the merge request"),
				"branchName":         sStr("Source Branch Name", "The source branch name of the merge request"),
				"targetBranchName":   sStr("Target Branch Name", "The target branch name of the merge request (default the project's default branch)"),
				"sourcePath":         sStr("Working Subdirectory", "Subdirectory of working directory to copy changes from"),
				"targetPath":         sStr("Repository Subdirectory", "Subdirectory of repository to apply changes to"),
				"token":              tokenProp,
				"commitAction":       sEnum("Commit action", "The action to be used for git commit", "create", "update", "auto"),
				"commitMessage":      sStr("Commit Message", "The commit message (default the title)"),
				"removeSourceBranch": sBool("Delete source branch", "Option to delete source branch once the MR has been merged"),
				"assignee":           sStr("Merge Request Assignee", "User this merge request will be assigned to"),
				"reviewers":          sStrs("Merge Request Reviewers", "Users that will be assigned as reviewers"),
				"labels":             map[string]any{"type": []any{"string", "array"}, "title": "Labels", "description": "Labels with which the merge request will be created"},
				"gitAuthorName":      sStr("Author Name", "Sets the author name for the commit"),
				"gitAuthorEmail":     sStr("Author Email", "Sets the author email for the commit"),
			}), "output": sObj(nil, schemaProps{
				"targetBranchName": sStr("Target branch name of the merge request", ""),
				"projectid":        map[string]any{"title": "GitLab Project id/Name(slug)"},
				"projectPath":      sStr("GitLab Project path", ""),
				"mergeRequestUrl":  sStr("MergeRequest(MR) URL", "Link to the merge request in GitLab"),
			})},
			Run: publishGitLabMergeRequest, DryRun: dry(map[string]any{"mergeRequestUrl": "dry-run://{host}/{owner}/{repo}/-/merge_requests/0", "projectPath": "{owner}/{repo}"})},
		{ID: "github:repo:create", Description: "Creates a GitHub repository with its settings and topics, and no content (a retry brings the existing one to the same settings)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl"}, schemaProps{
				"repoUrl": repoURLProp, "description": sStr("Repository Description", ""), "homepage": sStr("Repository Homepage", ""),
				"repoVisibility":           sEnum("Repository Visibility", "", "private", "public", "internal"),
				"deleteBranchOnMerge":      sBool("Delete Branch On Merge", "Delete the branch after merging the PR. The default value is 'false'"),
				"allowMergeCommit":         sBool("Allow Merge Commits", "Allow merge commits. The default value is 'true'"),
				"allowSquashMerge":         sBool("Allow Squash Merges", "Allow squash merges. The default value is 'true'"),
				"allowRebaseMerge":         sBool("Allow Rebase Merges", "Allow rebase merges. The default value is 'true'"),
				"allowAutoMerge":           sBool("Allow Auto Merges", "Allow individual PRs to merge automatically when all merge requirements are met. The default value is 'false'"),
				"allowUpdateBranch":        sBool("Allow Update Branch", "Allow branch to be updated. The default value is 'false'"),
				"squashMergeCommitTitle":   sEnum("Default squash merge commit title", "", "PR_TITLE", "COMMIT_OR_PR_TITLE"),
				"squashMergeCommitMessage": sEnum("Default squash merge commit message", "", "PR_BODY", "COMMIT_MESSAGES", "BLANK"),
				"hasProjects":              sBool("Enable projects", "Enable projects for the repository"),
				"hasWiki":                  sBool("Enable the wiki", "Enable the wiki for the repository"),
				"hasIssues":                sBool("Enable issues", "Enable issues for the repository"),
				"topics":                   sStrs("Topics", "Adds topics to the repository"),
				"token":                    tokenProp,
			}), "output": sObj(nil, schemaProps{"remoteUrl": sStr("A URL to the repository with the provider", ""),
				"repoContentsUrl": sStr("A URL to the root of the repository", "")})},
			Run: githubRepoCreate, DryRun: dry(map[string]any{"remoteUrl": "dry-run://{host}/{owner}/{repo}.git", "repoContentsUrl": "dry-run://{host}/{owner}/{repo}/blob/main"})},
		{ID: "github:repo:push", Description: "Pushes the workspace as the first commit of an existing GitHub repository's default branch and protects it (a retry finds the commit)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl"}, schemaProps{
				"repoUrl": repoURLProp, "description": sStr("Repository Description", ""),
				"defaultBranch":                sStr("Default Branch", "Sets the default branch on the repository. The default value is 'main'"),
				"protectDefaultBranch":         sBool("Protect Default Branch", "Protect the default branch after creating the repository. The default value is 'true'"),
				"protectEnforceAdmins":         sBool("Enforce Admins On Protected Branches", "Enforce admins to adhere to default branch protection. The default value is 'true'"),
				"gitCommitMessage":             sStr("Git Commit Message", "Sets the commit message on the repository. The default value is 'initial commit'"),
				"gitAuthorName":                sStr("Default Author Name", "Sets the default author name for the commit"),
				"gitAuthorEmail":               sStr("Default Author Email", "Sets the default author email for the commit"),
				"requireCodeOwnerReviews":      sBool("Require CODEOWNER Reviews?", "Require an approved review in PR including files with a designated Code Owner"),
				"requiredStatusCheckContexts":  sStrs("Required Status Check Contexts", "The list of status checks to require in order to merge into this branch"),
				"requiredApprovingReviewCount": sNum("Required approving review count", "Specify the number of reviewers required to approve pull requests. The default value is 1"),
				"sourcePath":                   sStr("Source Path", "Path within the workspace that will be used as the repository root"),
				"token":                        tokenProp,
			}), "output": sObj(nil, schemaProps{"remoteUrl": sStr("A URL to the repository with the provider", ""),
				"repoContentsUrl": sStr("A URL to the root of the repository", ""), "commitHash": sStr("The git commit hash of the initial commit", "")})},
			Run: githubRepoPush, DryRun: dry(map[string]any{"remoteUrl": "dry-run://{host}/{owner}/{repo}.git", "repoContentsUrl": "dry-run://{host}/{owner}/{repo}/blob/main", "commitHash": "0000000000000000000000000000000000000000"})},
		{ID: "github:pages:enable", Description: "Turns on GitHub Pages for a repository (or brings it to these settings)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl"}, schemaProps{
				"repoUrl":      repoURLProp,
				"buildType":    sEnum("Build Type", "The GitHub Pages build type - \"legacy\" or \"workflow\". Default is \"workflow\"", "legacy", "workflow"),
				"sourceBranch": sStr("Source Branch", "The GitHub Pages source branch. Default is \"main\""),
				"sourcePath":   sEnum("Source Path", "The GitHub Pages source path - \"/\" or \"/docs\". Default is \"/\"", "/", "/docs"),
				"token":        tokenProp,
			})},
			Run: githubPagesEnable, DryRun: dry(nil)},
		{ID: "github:actions:dispatch", Description: "Starts a GitHub Actions workflow (workflow_dispatch); a retry on the same worker does not start it again",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "workflowId", "branchOrTagName"}, schemaProps{
				"repoUrl":         repoURLProp,
				"workflowId":      sStr("Workflow ID", "The GitHub Action Workflow filename"),
				"branchOrTagName": sStr("Branch or Tag name", "The git branch or tag name used to dispatch the workflow"),
				"workflowInputs":  map[string]any{"type": "object", "title": "Workflow Inputs", "description": "Inputs keys and values to send to GitHub Action configured on the workflow file. The maximum number of properties is 10."},
				"token":           tokenProp,
			})},
			Run: githubActionsDispatch, DryRun: dry(nil)},
		{ID: "github:webhook", Description: "Creates a webhook of a GitHub repository, one per URL (a retry updates it)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "webhookUrl"}, schemaProps{
				"repoUrl":       repoURLProp,
				"webhookUrl":    sStr("Webhook URL", "The URL to which the payloads will be delivered"),
				"webhookSecret": sStr("Webhook Secret", "Webhook secret value. The default can be provided internally in action creation"),
				"events":        sStrs("Triggering Events", "Determines what events the hook is triggered for. Default: push"),
				"active":        sBool("Active", "Determines if notifications are sent when the webhook is triggered. Default: true"),
				"contentType":   sEnum("Content Type", "The media type used to serialize the payloads. The default is 'form'", "form", "json"),
				"insecureSsl":   sBool("Insecure SSL", "Determines whether the SSL certificate of the host for url will be verified when delivering payloads. Default 'false'"),
				"token":         tokenProp,
			})},
			Run: githubWebhook, DryRun: dry(nil)},
		{ID: "github:environment:create", Description: "Creates a deployment environment of a GitHub repository with its policies, variables and secrets (a retry sets the same)",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "name"}, schemaProps{
				"repoUrl": repoURLProp, "name": sStr("Environment Name", "Name of the deployment environment to create"),
				"deploymentBranchPolicy": sObj([]string{"protected_branches", "custom_branch_policies"}, schemaProps{
					"protected_branches":     sBool("Protected Branches", "Whether only branches with branch protection rules can deploy to this environment"),
					"custom_branch_policies": sBool("Custom Branch Policies", "Whether only branches that match the specified name patterns can deploy to this environment"),
				}),
				"customBranchPolicyNames": sStrs("Custom Branch Policy Name", "The name pattern that branches must match in order to deploy to the environment"),
				"customTagPolicyNames":    sStrs("Custom Tag Policy Name", "The name pattern that tags must match in order to deploy to the environment"),
				"environmentVariables":    map[string]any{"type": "object", "title": "Environment Variables", "description": "Environment variables attached to the deployment environment"},
				"secrets":                 map[string]any{"type": "object", "title": "Deployment Secrets", "description": "Secrets attached to the deployment environment"},
				"token":                   tokenProp,
				"waitTimer":               sNum("Wait Timer", "The time to wait before creating or updating the environment (in milliseconds)"),
				"preventSelfReview":       sBool("Prevent Self Review", "Whether to prevent self-review for this environment"),
			})},
			Run: githubEnvironmentCreate, DryRun: dry(nil)},
		{ID: "gitlab:group:ensureExists", Description: "Makes sure a GitLab group path exists, creating each missing level",
			Schema: map[string]any{"input": sObj([]string{"repoUrl", "path"}, schemaProps{
				"repoUrl": sStr("Repository Location", "The GitLab instance, as host?..."),
				"token":   tokenProp,
				"path":    map[string]any{"title": "Group path", "description": "A path of group names or objects that is ensured to exist", "type": []any{"array", "string"}, "items": map[string]any{"type": "string"}},
			}), "output": sObj(nil, schemaProps{"groupId": sNum("The id of the innermost sub-group", "")})},
			Run: gitlabGroupEnsureExists, DryRun: gitlabGroupDry},
	}
}
